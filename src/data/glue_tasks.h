#pragma once
// The GLUE data API in one include: the task registry (find_task, TaskSpec) and split loading
// (load_split, Dataset, Example).
#include "data/dataset.h"
#include "data/task_spec.h"
