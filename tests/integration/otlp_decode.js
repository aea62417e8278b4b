// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
// Decodes an OTLP ExportMetricsServiceRequest with the OpenTelemetry
// project's own compiled protobuf definitions (npm @opentelemetry/otlp-transformer,
// protobufjs code generated from opentelemetry-proto) and prints it as JSON:
// 64-bit integers as strings, enums as numbers, empty arrays kept.
//
// usage: NODE_PATH=DIR/node_modules node otlp_decode.js FILE
"use strict";
const fs = require("fs");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");

const T = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const msg = T.decode(fs.readFileSync(process.argv[2]));
process.stdout.write(JSON.stringify(T.toObject(msg, { longs: String, enums: Number, arrays: true })));
