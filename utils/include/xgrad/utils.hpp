// The training-experience utilities: metrics, a progress bar and SVG plots.
#pragma once
#include <xgrad/utils/metrics.hpp>
#include <xgrad/utils/plot.hpp>
#include <xgrad/utils/progress.hpp>
