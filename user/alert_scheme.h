/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The labels and annotations of an SLO alert, one scheme for the alerts
 * the agent pushes to Alertmanager and the alerting rules `slotap rules`
 * generates for Prometheus, so that either source of the same alert
 * routes, groups and reads the same (README, "Alerts from the agent
 * itself", docs/rules.md).
 */
#ifndef SLOTAP_ALERT_SCHEME_H
#define SLOTAP_ALERT_SCHEME_H

/* labels: those of the slotap_slo_* series, then the condition's */
#define ALERT_LABEL_ALERTNAME		"alertname"
#define ALERT_LABEL_SLO			"slo"
#define ALERT_LABEL_SERVICE		"service"
#define ALERT_LABEL_ENDPOINT		"endpoint"	/* left out when "": the whole service */
#define ALERT_LABEL_SEVERITY		"severity"	/* page, ticket */
#define ALERT_LABEL_CONDITION		"condition"	/* burn_rate_1h_5m_14.4, budget_exhausted, ... */
#define ALERT_LABEL_SLI			"sli"		/* availability, latency */
#define ALERT_LABEL_WINDOW		"slo_window"	/* 28d, week, 4w, month */
/* annotations */
#define ALERT_ANN_SUMMARY		"summary"
#define ALERT_ANN_DESCRIPTION		"description"
#define ALERT_ANN_BROKEN_BY		"broken_by"	/* how far: burn rate 1h 20.00x, 5m 20.00x (>= 14.4x) */
#define ALERT_ANN_BUDGET		"budget_remaining"	/* a percentage */
#define ALERT_ANN_RUNBOOK		"runbook_url"

/* alertname: a multiwindow burn-rate rule, or an error budget policy condition */
#define ALERT_NAME_SLO_BURN		"SlotapErrorBudgetBurn"
#define ALERT_NAME_SLO_POLICY		"SlotapErrorBudgetPolicy"

#endif /* SLOTAP_ALERT_SCHEME_H */
