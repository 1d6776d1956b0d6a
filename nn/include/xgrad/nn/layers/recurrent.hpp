// Recurrent layers: RNNCell, LSTMCell, GRUCell (one time step) and LSTM (a whole sequence, several
// stacked layers). All are composed from autograd ops (matmul with transpose_b, narrow, sigmoid,
// tanh, stack), so their gradients come from the tape.
//
// Parameter names, shapes, gate order and initialisation follow PyTorch, so state dicts map one
// to one: weight_ih [G*hidden, input], weight_hh [G*hidden, hidden], bias_ih and bias_hh
// [G*hidden], with G = 1 (RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: gates r, z, n); every
// parameter starts as U(-1/sqrt(hidden), 1/sqrt(hidden)). LSTM names them weight_ih_l0, ...
//
//   nn::LSTM lstm(8, 16, {.num_layers = 2, .batch_first = true});
//   auto [y, state] = lstm(x);              // x [N, T, 8] -> y [N, T, 16]
//   auto [h_n, c_n] = state;                // each [2, N, 16]
//   auto next = lstm(x2, state);            // continue from the last state
//
//   nn::LSTMCell cell(8, 16);
//   nn::LSTMState s;                        // undefined h and c: zeros
//   for (auto& x_t : steps) s = cell(x_t, s);
#pragma once
#include <string>
#include <vector>

#include <xgrad/nn/module.hpp>

namespace xgrad::nn {

// The (h, c) pair of an LSTM. An undefined member stands for zeros of the right shape.
struct LSTMState {
    Tensor h, c;
};

struct RNNCellOptions {
    bool bias = true;
    std::string nonlinearity = "tanh";  // "tanh" or "relu"
};

// h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.
//
// Input [N, input_size] with hidden state [N, hidden_size], or unbatched [input_size] with
// [hidden_size]; an undefined hidden state means zeros. Returns h' with the shape of the state.
class RNNCell : public Module {
  public:
    RNNCell(std::int64_t input_size, std::int64_t hidden_size, RNNCellOptions options = {});
    // One step from a zero hidden state.
    Tensor forward(const Tensor& input) override;
    Tensor forward(const Tensor& input, const Tensor& hx);
    Tensor operator()(const Tensor& input, const Tensor& hx = Tensor()) {
        return forward(input, hx);
    }
    std::string extra_repr() const override;

    std::int64_t input_size, hidden_size;
    std::string nonlinearity;
    Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // biases undefined when disabled
};

// i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)    (likewise f and o)
// g = tanh(W_ig x + b_ig + W_hg h + b_hg)
// c' = f * c + i * g,   h' = o * tanh(c')
//
// Shapes as RNNCell; returns (h', c'). The single-input forward runs from a zero state and
// returns h' only.
class LSTMCell : public Module {
  public:
    LSTMCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
    Tensor forward(const Tensor& input) override;
    LSTMState forward(const Tensor& input, const LSTMState& state);
    LSTMState operator()(const Tensor& input, const LSTMState& state = {}) {
        return forward(input, state);
    }
    std::string extra_repr() const override;

    std::int64_t input_size, hidden_size;
    Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // biases undefined when disabled
};

// r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
// z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
// n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
// h' = (1 - z) * n + z * h
//
// Shapes as RNNCell.
class GRUCell : public Module {
  public:
    GRUCell(std::int64_t input_size, std::int64_t hidden_size, bool bias = true);
    Tensor forward(const Tensor& input) override;
    Tensor forward(const Tensor& input, const Tensor& hx);
    Tensor operator()(const Tensor& input, const Tensor& hx = Tensor()) {
        return forward(input, hx);
    }
    std::string extra_repr() const override;

    std::int64_t input_size, hidden_size;
    Tensor weight_ih, weight_hh, bias_ih, bias_hh;  // biases undefined when disabled
};

struct LSTMOptions {
    std::int64_t num_layers = 1;
    bool bias = true;
    bool batch_first = false;  // input and output as [N, T, feature] instead of [T, N, feature]
    double dropout = 0.0;      // on the outputs of every layer but the last, in training mode
};

// What an LSTM returns: the output sequence and the final state of every layer.
struct LSTMOutput {
    Tensor output;    // [T, N, hidden] (or [N, T, hidden]): h_t of the last layer, every t
    LSTMState state;  // h_n, c_n: [num_layers, N, hidden]
};

// A multi-layer LSTM over a whole sequence: layer l runs an LSTMCell step by step over the
// outputs of layer l-1 (after dropout in training mode, when dropout > 0).
//
// Input [T, N, input_size] ([N, T, input_size] with batch_first); the initial state (h0, c0),
// each [num_layers, N, hidden_size], is zeros when undefined. Parameters weight_ih_l{k},
// weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k} as in PyTorch. Unbatched (2-D) sequences are not
// accepted: add a batch dimension of 1.
class LSTM : public Module {
  public:
    LSTM(std::int64_t input_size, std::int64_t hidden_size, LSTMOptions options = {});
    // The output sequence only, from a zero state (so an LSTM fits in a Sequential).
    Tensor forward(const Tensor& input) override;
    LSTMOutput forward(const Tensor& input, const LSTMState& state);
    LSTMOutput operator()(const Tensor& input, const LSTMState& state = {}) {
        return forward(input, state);
    }
    std::string extra_repr() const override;

    std::int64_t input_size, hidden_size;
    LSTMOptions options;
    // One entry per layer; bias entries are undefined when bias is disabled.
    std::vector<Tensor> weight_ih, weight_hh, bias_ih, bias_hh;
};

}  // namespace xgrad::nn
