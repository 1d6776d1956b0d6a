// The differentiable op library.
#pragma once
#include <xgrad/autograd/ops/conv.hpp>
#include <xgrad/autograd/ops/elementwise.hpp>
#include <xgrad/autograd/ops/indexing.hpp>
#include <xgrad/autograd/ops/linalg.hpp>
#include <xgrad/autograd/ops/reduction.hpp>
#include <xgrad/autograd/ops/shape.hpp>
#include <xgrad/autograd/ops/special.hpp>
