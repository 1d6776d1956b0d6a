// The optim module: optimizers, learning-rate schedulers, gradient clipping and a convergence
// check, and a moving average of the weights. It works on tensors (parameter lists or groups),
// never on nn types.
#pragma once
#include <xgrad/optim/adagrad.hpp>
#include <xgrad/optim/adam.hpp>
#include <xgrad/optim/adamw.hpp>
#include <xgrad/optim/clip_grad.hpp>
#include <xgrad/optim/convergence.hpp>
#include <xgrad/optim/ema.hpp>
#include <xgrad/optim/lr_scheduler.hpp>
#include <xgrad/optim/mode.hpp>
#include <xgrad/optim/optimizer.hpp>
#include <xgrad/optim/rmsprop.hpp>
#include <xgrad/optim/sgd.hpp>
