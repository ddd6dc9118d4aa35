#pragma once
// The metrics API in one include: the individual GLUE metrics and score() by name.
#include "metrics/classification.h"
#include "metrics/correlation.h"
#include "metrics/score.h"
