// SPDX-License-Identifier: GPL-2.0
/*
 * The etcp:* tracepoints are instantiated here, and only here; the other
 * files include trace.h for the trace_etcp_*() calls.
 */
#define CREATE_TRACE_POINTS
#include "trace.h"
