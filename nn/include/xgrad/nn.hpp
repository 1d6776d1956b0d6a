// The nn module: layers, activations, costs and initialisation, all composed from autograd ops.
#pragma once
#include <xgrad/nn/functional/activation.hpp>
#include <xgrad/nn/functional/loss.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/layers/activation.hpp>
#include <xgrad/nn/layers/conv.hpp>
#include <xgrad/nn/layers/dropout.hpp>
#include <xgrad/nn/layers/embedding.hpp>
#include <xgrad/nn/layers/linear.hpp>
#include <xgrad/nn/layers/loss.hpp>
#include <xgrad/nn/layers/normalization.hpp>
#include <xgrad/nn/layers/pooling.hpp>
#include <xgrad/nn/layers/recurrent.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/sequential.hpp>
#include <xgrad/nn/serialization.hpp>
