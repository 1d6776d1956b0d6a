// The whole public API of xgrad.
#pragma once
#include <xgrad/core/check.hpp>
#include <xgrad/core/config.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/core/dtype.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/memory.hpp>
#include <xgrad/core/random.hpp>
#include <xgrad/core/safetensors.hpp>
#include <xgrad/core/shape.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/threads.hpp>

#include <xgrad/autograd/anomaly_mode.hpp>
#include <xgrad/autograd/checkpoint.hpp>
#include <xgrad/autograd/engine.hpp>
#include <xgrad/autograd/function.hpp>
#include <xgrad/autograd/functional.hpp>
#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/gradcheck.hpp>
#include <xgrad/autograd/graphviz.hpp>
#include <xgrad/autograd/node.hpp>
#include <xgrad/autograd/ops.hpp>

#include <xgrad/data.hpp>
#include <xgrad/nn.hpp>
#include <xgrad/optim.hpp>
#include <xgrad/utils.hpp>
