#include <cmath>
#include <sstream>

#include <xgrad/autograd/grad_mode.hpp>
#include <xgrad/autograd/ops.hpp>
#include <xgrad/core/check.hpp>
#include <xgrad/core/creation.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/layers/recurrent.hpp>

namespace xgrad::nn {

namespace {

// The op that raise() names in messages (it adds the "xgrad::"): "nn::<layer>".
std::string op_name(const char* layer) {
    return std::string("nn::") + layer;
}

void check_sizes(const char* layer, std::int64_t input_size, std::int64_t hidden_size) {
    if (input_size <= 0 || hidden_size <= 0)
        raise<ValueError>(op_name(layer).c_str(),
                          "input_size and hidden_size must be positive, got ",
                          "input_size=", std::to_string(input_size),
                          ", hidden_size=", std::to_string(hidden_size));
}

// A parameter drawn from U(-1/sqrt(hidden), 1/sqrt(hidden)), as every PyTorch RNN parameter.
Tensor uniform_param(const Shape& shape, std::int64_t hidden_size) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size));
    Tensor t = empty(shape);
    init::uniform_(t, -bound, bound);
    return t;
}

void check_dtype(const char* layer, const char* what, const Tensor& t, Dtype param_dtype) {
    if (t.dtype() != param_dtype)
        raise<DtypeError>(op_name(layer).c_str(), what, " is ", dtype_name(t.dtype()),
                          " but the parameters are ", dtype_name(param_dtype),
                          " (convert one of them, e.g. module.to(...))");
}

// Validates a cell's input ([N, input_size] or unbatched [input_size]); returns whether it is
// unbatched.
bool check_cell_input(const char* layer, const Tensor& x, std::int64_t input_size,
                      Dtype param_dtype) {
    if (!x.defined()) raise<ValueError>(op_name(layer).c_str(), "undefined input");
    if ((x.dim() != 1 && x.dim() != 2) || x.size(-1) != input_size)
        raise<ShapeError>(op_name(layer).c_str(), "expected input of shape [N, ",
                          std::to_string(input_size), "] or [", std::to_string(input_size),
                          "] (input_size=", std::to_string(input_size), "), got ",
                          shape_str(x.shape()));
    check_dtype(layer, "the input", x, param_dtype);
    return x.dim() == 1;
}

// A cell's state as [N, hidden]: zeros when undefined, else checked against the input
// ([N, hidden] for a batched input, [hidden] for an unbatched one).
Tensor cell_state(const char* layer, const char* what, const Tensor& s, const Tensor& input,
                  std::int64_t hidden_size, Dtype param_dtype) {
    const bool unbatched = input.dim() == 1;
    const std::int64_t n = unbatched ? 1 : input.size(0);
    if (!s.defined()) return zeros({n, hidden_size}, TensorOptions{param_dtype});
    const Shape expected = unbatched ? Shape{hidden_size} : Shape{n, hidden_size};
    if (s.shape() != expected)
        raise<ShapeError>(op_name(layer).c_str(), "expected ", what, " of shape ",
                          shape_str(expected), " for input of shape ", shape_str(input.shape()),
                          ", got ", shape_str(s.shape()));
    check_dtype(layer, what, s, param_dtype);
    return unbatched ? unsqueeze(s, 0) : s;
}

// x W^T (+ b); the transpose is a BLAS flag.
Tensor affine(const Tensor& x, const Tensor& w, const Tensor& b) {
    Tensor y = matmul(x, w, MatmulOptions{false, true});
    return b.defined() ? y + b : y;
}

// One LSTM step on [N, *] tensors.
LSTMState lstm_step(const Tensor& x, const Tensor& h, const Tensor& c, const Tensor& w_ih,
                    const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                    std::int64_t hidden_size) {
    const Tensor gates = affine(x, w_ih, b_ih) + affine(h, w_hh, b_hh);  // [N, 4H]: i, f, g, o
    const TensorList chunk = split(gates, hidden_size, 1);
    const Tensor i = sigmoid(chunk[0]);
    const Tensor f = sigmoid(chunk[1]);
    const Tensor g = tanh(chunk[2]);
    const Tensor o = sigmoid(chunk[3]);
    LSTMState next;
    next.c = f * c + i * g;
    next.h = o * tanh(next.c);
    return next;
}

// Inverted dropout: zeroes elements with probability p and scales the rest by 1 / (1 - p).
Tensor dropout(const Tensor& x, double p) {
    if (p >= 1.0) return x * 0.0;
    const Tensor keep = rand_like(x) >= p;
    return where(keep, x * (1.0 / (1.0 - p)), scalar_like(0.0, x, "nn::LSTM"));
}

// Appends the slices of `x` along `dim` (each without `dim`) to `out`. Each slice's backward
// writes a zero tensor the size of what it was cut from, so cutting every step straight from
// the whole sequence would make the input gradient O(T^2); halving first keeps it O(T log T).
void unbind_into(const Tensor& x, std::int64_t dim, TensorList& out) {
    const std::int64_t n = x.size(dim);
    if (n <= 4) {
        for (std::int64_t t = 0; t < n; ++t) out.push_back(select(x, dim, t));
        return;
    }
    const std::int64_t half = n / 2;
    unbind_into(narrow(x, dim, 0, half), dim, out);
    unbind_into(narrow(x, dim, half, n - half), dim, out);
}

std::string bool_str(bool b) {
    return b ? "true" : "false";
}

}  // namespace

// ---- RNNCell ----------------------------------------------------------------------------------

RNNCell::RNNCell(std::int64_t in, std::int64_t hidden, RNNCellOptions options)
    : input_size(in), hidden_size(hidden), nonlinearity(options.nonlinearity) {
    check_sizes("RNNCell", in, hidden);
    if (nonlinearity != "tanh" && nonlinearity != "relu")
        raise<ValueError>("nn::RNNCell", "nonlinearity must be \"tanh\" or \"relu\", got \"",
                          nonlinearity, "\"");
    weight_ih = register_parameter("weight_ih", uniform_param({hidden, in}, hidden));
    weight_hh = register_parameter("weight_hh", uniform_param({hidden, hidden}, hidden));
    if (options.bias) {
        bias_ih = register_parameter("bias_ih", uniform_param({hidden}, hidden));
        bias_hh = register_parameter("bias_hh", uniform_param({hidden}, hidden));
    }
}

Tensor RNNCell::forward(const Tensor& input) {
    return forward(input, Tensor());
}

Tensor RNNCell::forward(const Tensor& input, const Tensor& hx) {
    const Dtype dt = weight_ih.dtype();
    const bool unbatched = check_cell_input("RNNCell", input, input_size, dt);
    const Tensor h = cell_state("RNNCell", "hx", hx, input, hidden_size, dt);
    const Tensor x = unbatched ? unsqueeze(input, 0) : input;
    const Tensor pre = affine(x, weight_ih, bias_ih) + affine(h, weight_hh, bias_hh);
    const Tensor out = nonlinearity == "tanh" ? tanh(pre) : relu(pre);
    return unbatched ? squeeze(out, 0) : out;
}

std::string RNNCell::extra_repr() const {
    return "input_size=" + std::to_string(input_size) +
           ", hidden_size=" + std::to_string(hidden_size) +
           ", bias=" + bool_str(bias_ih.defined()) + ", nonlinearity=" + nonlinearity;
}

// ---- LSTMCell ---------------------------------------------------------------------------------

LSTMCell::LSTMCell(std::int64_t in, std::int64_t hidden, bool bias)
    : input_size(in), hidden_size(hidden) {
    check_sizes("LSTMCell", in, hidden);
    weight_ih = register_parameter("weight_ih", uniform_param({4 * hidden, in}, hidden));
    weight_hh = register_parameter("weight_hh", uniform_param({4 * hidden, hidden}, hidden));
    if (bias) {
        bias_ih = register_parameter("bias_ih", uniform_param({4 * hidden}, hidden));
        bias_hh = register_parameter("bias_hh", uniform_param({4 * hidden}, hidden));
    }
}

Tensor LSTMCell::forward(const Tensor& input) {
    return forward(input, LSTMState{}).h;
}

LSTMState LSTMCell::forward(const Tensor& input, const LSTMState& state) {
    const Dtype dt = weight_ih.dtype();
    const bool unbatched = check_cell_input("LSTMCell", input, input_size, dt);
    const Tensor h = cell_state("LSTMCell", "h", state.h, input, hidden_size, dt);
    const Tensor c = cell_state("LSTMCell", "c", state.c, input, hidden_size, dt);
    const Tensor x = unbatched ? unsqueeze(input, 0) : input;
    LSTMState next = lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, hidden_size);
    if (unbatched) {
        next.h = squeeze(next.h, 0);
        next.c = squeeze(next.c, 0);
    }
    return next;
}

std::string LSTMCell::extra_repr() const {
    return "input_size=" + std::to_string(input_size) +
           ", hidden_size=" + std::to_string(hidden_size) + ", bias=" + bool_str(bias_ih.defined());
}

// ---- GRUCell ----------------------------------------------------------------------------------

GRUCell::GRUCell(std::int64_t in, std::int64_t hidden, bool bias)
    : input_size(in), hidden_size(hidden) {
    check_sizes("GRUCell", in, hidden);
    weight_ih = register_parameter("weight_ih", uniform_param({3 * hidden, in}, hidden));
    weight_hh = register_parameter("weight_hh", uniform_param({3 * hidden, hidden}, hidden));
    if (bias) {
        bias_ih = register_parameter("bias_ih", uniform_param({3 * hidden}, hidden));
        bias_hh = register_parameter("bias_hh", uniform_param({3 * hidden}, hidden));
    }
}

Tensor GRUCell::forward(const Tensor& input) {
    return forward(input, Tensor());
}

Tensor GRUCell::forward(const Tensor& input, const Tensor& hx) {
    const Dtype dt = weight_ih.dtype();
    const bool unbatched = check_cell_input("GRUCell", input, input_size, dt);
    const Tensor h = cell_state("GRUCell", "hx", hx, input, hidden_size, dt);
    const Tensor x = unbatched ? unsqueeze(input, 0) : input;
    // The input and hidden projections stay apart: n needs r * (W_hn h + b_hn).
    const TensorList gi = split(affine(x, weight_ih, bias_ih), hidden_size, 1);  // r, z, n
    const TensorList gh = split(affine(h, weight_hh, bias_hh), hidden_size, 1);
    const Tensor r = sigmoid(gi[0] + gh[0]);
    const Tensor z = sigmoid(gi[1] + gh[1]);
    const Tensor n = tanh(gi[2] + r * gh[2]);
    const Tensor out = (1.0 - z) * n + z * h;
    return unbatched ? squeeze(out, 0) : out;
}

std::string GRUCell::extra_repr() const {
    return "input_size=" + std::to_string(input_size) +
           ", hidden_size=" + std::to_string(hidden_size) + ", bias=" + bool_str(bias_ih.defined());
}

// ---- LSTM -------------------------------------------------------------------------------------

LSTM::LSTM(std::int64_t in, std::int64_t hidden, LSTMOptions opts)
    : input_size(in), hidden_size(hidden), options(opts) {
    check_sizes("LSTM", in, hidden);
    if (options.num_layers < 1)
        raise<ValueError>("nn::LSTM", "num_layers must be at least 1, got ",
                          std::to_string(options.num_layers));
    if (!(options.dropout >= 0.0 && options.dropout <= 1.0))
        raise<ValueError>("nn::LSTM", "dropout must be in [0, 1], got ",
                          std::to_string(options.dropout));
    for (std::int64_t l = 0; l < options.num_layers; ++l) {
        const std::string k = "_l" + std::to_string(l);
        const std::int64_t layer_in = l == 0 ? in : hidden;
        weight_ih.push_back(
            register_parameter("weight_ih" + k, uniform_param({4 * hidden, layer_in}, hidden)));
        weight_hh.push_back(
            register_parameter("weight_hh" + k, uniform_param({4 * hidden, hidden}, hidden)));
        if (options.bias) {
            bias_ih.push_back(
                register_parameter("bias_ih" + k, uniform_param({4 * hidden}, hidden)));
            bias_hh.push_back(
                register_parameter("bias_hh" + k, uniform_param({4 * hidden}, hidden)));
        } else {
            bias_ih.emplace_back();
            bias_hh.emplace_back();
        }
    }
}

Tensor LSTM::forward(const Tensor& input) {
    return forward(input, LSTMState{}).output;
}

LSTMOutput LSTM::forward(const Tensor& input, const LSTMState& state) {
    const Dtype dt = weight_ih[0].dtype();
    const std::int64_t layers = options.num_layers;
    const std::string layout = options.batch_first ? "[N, T, " : "[T, N, ";
    const std::string batch_first = options.batch_first ? "true" : "false";
    if (!input.defined()) raise<ValueError>("nn::LSTM", "undefined input");
    if (input.dim() != 3)
        raise<ShapeError>(
            "nn::LSTM", "expected a 3-D input ", layout, std::to_string(input_size),
            "] (batch_first=", batch_first, "), got shape ", shape_str(input.shape()),
            (input.dim() == 2 ? "; for an unbatched sequence add a batch dimension of size 1"
                              : ""));
    if (input.size(2) != input_size)
        raise<ShapeError>("nn::LSTM", "expected input of shape ", layout,
                          std::to_string(input_size), "] (input_size=", std::to_string(input_size),
                          ", batch_first=", batch_first, "), got ", shape_str(input.shape()));
    check_dtype("LSTM", "the input", input, dt);
    const std::int64_t time_dim = options.batch_first ? 1 : 0;
    const std::int64_t steps = input.size(time_dim);
    const std::int64_t batch = input.size(1 - time_dim);
    if (steps == 0)
        raise<ShapeError>("nn::LSTM", "the sequence is empty (input shape ",
                          shape_str(input.shape()), ", batch_first=", batch_first, ")");

    const Shape state_shape{layers, batch, hidden_size};
    auto check_state = [&](const Tensor& s, const char* what) {
        if (!s.defined()) return;
        if (s.shape() != state_shape)
            raise<ShapeError>("nn::LSTM", "expected ", what, " of shape ", shape_str(state_shape),
                              " [num_layers, N, hidden_size] for input ", shape_str(input.shape()),
                              " (batch_first=", batch_first, "), got ", shape_str(s.shape()));
        check_dtype("LSTM", what, s, dt);
    };
    check_state(state.h, "h0");
    check_state(state.c, "c0");

    // Layer inputs are kept as one [N, feature] tensor per time step, so the layers above the
    // first consume the outputs below without slicing a stacked sequence.
    TensorList xs;
    xs.reserve(static_cast<std::size_t>(steps));
    if (input.requires_grad() && GradMode::is_enabled())
        unbind_into(input, time_dim, xs);
    else
        for (std::int64_t t = 0; t < steps; ++t) xs.push_back(select(input, time_dim, t));

    const bool drop = is_training() && options.dropout > 0.0;
    TensorList h_n, c_n;
    for (std::int64_t l = 0; l < layers; ++l) {
        const auto li = static_cast<std::size_t>(l);
        Tensor h = state.h.defined() ? select(state.h, 0, l)
                                     : zeros({batch, hidden_size}, TensorOptions{dt});
        Tensor c = state.c.defined() ? select(state.c, 0, l)
                                     : zeros({batch, hidden_size}, TensorOptions{dt});
        TensorList ys;
        ys.reserve(xs.size());
        for (const Tensor& x : xs) {
            LSTMState next = lstm_step(x, h, c, weight_ih[li], weight_hh[li], bias_ih[li],
                                       bias_hh[li], hidden_size);
            h = next.h;
            c = next.c;
            ys.push_back(h);
        }
        h_n.push_back(h);
        c_n.push_back(c);
        if (drop && l + 1 < layers)
            for (Tensor& y : ys) y = dropout(y, options.dropout);
        xs = std::move(ys);
    }
    LSTMOutput out;
    out.output = stack(xs, time_dim);
    out.state.h = stack(h_n, 0);
    out.state.c = stack(c_n, 0);
    return out;
}

std::string LSTM::extra_repr() const {
    std::ostringstream os;
    os << "input_size=" << input_size << ", hidden_size=" << hidden_size
       << ", num_layers=" << options.num_layers << ", bias=" << bool_str(options.bias)
       << ", batch_first=" << bool_str(options.batch_first) << ", dropout=" << options.dropout;
    return os.str();
}

}  // namespace xgrad::nn
