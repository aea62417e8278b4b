/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The labels and annotations of an SLO alert, one scheme for the alerts
 * the agent pushes to Alertmanager and the alerting rules generated for
 * Prometheus, so that either source of the same alert routes, groups and
 * reads the same (README, "Alerts from the agent itself").
 */
#ifndef SLOTAP_ALERT_SCHEME_H
#define SLOTAP_ALERT_SCHEME_H

/* labels */
#define ALERT_LABEL_ALERTNAME		"alertname"
#define ALERT_LABEL_SLO			"slo"
#define ALERT_LABEL_SERVICE		"service_name"
#define ALERT_LABEL_ENDPOINT		"endpoint"
#define ALERT_LABEL_SEVERITY		"severity"
#define ALERT_LABEL_CONDITION		"condition"
/* annotations */
#define ALERT_ANNOTATION_SUMMARY	"summary"
#define ALERT_ANNOTATION_DESCRIPTION	"description"
#define ALERT_ANNOTATION_BURN_RATE	"burn_rate"
#define ALERT_ANNOTATION_BUDGET		"budget_remaining"
#define ALERT_ANNOTATION_RUNBOOK	"runbook_url"

/* alertname: a multiwindow burn-rate rule, or an error budget policy condition */
#define ALERT_NAME_BURN_RATE		"SLOErrorBudgetBurn"
#define ALERT_NAME_POLICY		"SLOErrorBudgetPolicy"

#endif /* SLOTAP_ALERT_SCHEME_H */
