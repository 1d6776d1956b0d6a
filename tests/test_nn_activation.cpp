// Activation functions and modules: values and gradients against PyTorch 1.13 (literals printed
// by tests/reference/nn_activation_loss_reference.py), gradcheck and gradgradcheck in float64,
// numerical stability for logits of +-1000, the erf / log1p / expm1 ops, module printing and
// error messages.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

using namespace xgrad;
namespace F = xgrad::nn::functional;
using autograd::gradcheck;
using autograd::GradcheckOptions;
using autograd::gradgradcheck;

namespace {

// ---- reference values (tests/reference/nn_activation_loss_reference.py) ------------------
// shape [3, 4]
const std::vector<double> kX = {0.8182550269259515,  2.7249944313574055,  0.2733600241796016,
                                -2.798497810248366,  -1.8437999136169627, 1.8853192931646001,
                                3.0721916700393175,  0.12454663861457216, -2.492808690199475,
                                -0.7989423936037996, 2.8711276698573456,  3.2872404934288};
// shape [3, 4]
const std::vector<double> kSigmoid = {0.6938658052635507,  0.9384854968258015,  0.5679175993131282,
                                      0.05740540540202409, 0.13660250299469082, 0.8682209175844748,
                                      0.9557309930259311,  0.5310964730172091,  0.07636385777135078,
                                      0.3102517965778604,  0.9464005795671685,  0.9639884812623705};
// shape [3, 4]
const std::vector<double> kTanh = {0.6741190005905063,  0.9914440542787544,  0.2667485657989244,
                                   -0.9926094311312248, -0.9511585767536351, 0.954962842137062,
                                   0.9957181895639511,  0.12390662588190847, -0.9864217020523118,
                                   -0.6634450946396269, 0.9936054585569599,  0.9972128295223494};
// shape [3, 4]
const std::vector<double> kRelu = {
    0.8182550269259515, 2.7249944313574055, 0.2733600241796016,  0.0, 0.0,
    1.8853192931646001, 3.0721916700393175, 0.12454663861457216, 0.0, 0.0,
    2.8711276698573456, 3.2872404934288};
// shape [3, 4]
const std::vector<double> kLeakyRelu = {
    0.8182550269259515,    2.7249944313574055,    0.2733600241796016, -0.02798497810248366,
    -0.018437999136169628, 1.8853192931646001,    3.0721916700393175, 0.12454663861457216,
    -0.024928086901994752, -0.007989423936037996, 2.8711276698573456, 3.2872404934288};
// shape [3, 4]
const std::vector<double> kLeakyRelu02 = {
    0.8182550269259515,   2.7249944313574055,   0.2733600241796016, -0.5596995620496732,
    -0.36875998272339255, 1.8853192931646001,   3.0721916700393175, 0.12454663861457216,
    -0.498561738039895,   -0.15978847872075994, 2.8711276698573456, 3.2872404934288};
// shape [3, 4]
const std::vector<double> kElu = {0.8182550269259515,  2.7249944313574055,  0.2733600241796016,
                                  -0.939098520476337,  -0.8417849212344302, 1.8853192931646001,
                                  3.0721916700393175,  0.12454663861457216, -0.9173225751137328,
                                  -0.5501955713134636, 2.8711276698573456,  3.2872404934288};
// shape [3, 4]
const std::vector<double> kElu05 = {0.8182550269259515,  2.7249944313574055,  0.2733600241796016,
                                    -0.4695492602381685, -0.4208924606172151, 1.8853192931646001,
                                    3.0721916700393175,  0.12454663861457216, -0.4586612875568664,
                                    -0.2750977856567318, 2.8711276698573456,  3.2872404934288};
// shape [3, 4]
const std::vector<double> kSelu = {0.8597413646996825,  2.863154339565412,   0.2872196473090254,
                                   -1.6510284898401948, -1.4799415151575126, 1.9809068428083818,
                                   3.2279548210555933,  0.13086127616413717, -1.6127442146518718,
                                   -0.9672984712633462, 3.016696677542753,   3.4539068321205573};
// shape [3, 4]
const std::vector<double> kGelu = {
    0.6491988005689233,    2.7162332238820666,   0.16612410154906845, -0.007183872267858793,
    -0.060119221461548564, 1.8293378070850175,   3.068927570338499,   0.06844569655681462,
    -0.015796568654303338, -0.16950514246011322, 2.8652560659444344,  3.2855775706675048};
// shape [3, 4]
const std::vector<double> kGeluTanh = {
    0.6491089985407497,    2.7167059247694825,  0.16612235729878008, -0.00671817764462675,
    -0.06015185650805751,  1.8293384200592053,  3.069312035686578,   0.06844561821791108,
    -0.015359165222431755, -0.1695888002200807, 2.865707627371241,   3.285867407574056};
// shape [3, 4]
const std::vector<double> kSilu = {0.5677591831689237,   2.557367752759997,   0.15524596868025803,
                                   -0.16064890131398413, -0.2518676832214718, 1.6368736466510825,
                                   2.936188795572671,    0.06614628049434822, -0.19036048826957994,
                                   -0.2478733129777949,  2.7172368907643256,  3.168861970804594};
// shape [3, 4]
const std::vector<double> kSoftplus = {
    1.1837317282721045,  2.7884823080010586,  0.8391389665963107, 0.059118999075068596,
    0.14688009486275078, 2.026628376523245,   3.1174704636152875, 0.7573582310919147,
    0.07943707036114007, 0.37142867056788786, 2.9262170237841487, 3.323916426769736};
// shape [3, 4]
const std::vector<double> kSoftplusB2T3 = {
    0.907185088651083,     2.7249944313574055,  0.501706897867714,  0.001851064432263223,
    0.012361921245890898,  1.8853192931646001,  3.0721916700393175, 0.41271489141357415,
    0.0034061500447429205, 0.09212818527787232, 2.8711276698573456, 3.2872404934288};
// shape [3, 4]
const std::vector<double> kMish = {0.6780263148928739,   2.70444923138937,     0.18734803961485463,
                                   -0.16525191273309164, -0.26888664934974066, 1.8209571105730693,
                                   3.060173797607952,    0.0796498507929797,   -0.1976059465517601,
                                   -0.28381687403862926, 2.854678014897369,    3.2787255550806567};
// shape [3, 4]
const std::vector<double> kHardtanh = {
    0.8182550269259515,  1.0,  0.2733600241796016,  -1.0, -1.0, 1.0, 1.0,
    0.12454663861457216, -1.0, -0.7989423936037996, 1.0,  1.0};
// shape [3, 4]
const std::vector<double> kHardtanhM05P2 = {0.8182550269259515,
                                            2.0,
                                            0.2733600241796016,
                                            -0.5,
                                            -0.5,
                                            1.8853192931646001,
                                            2.0,
                                            0.12454663861457216,
                                            -0.5,
                                            -0.5,
                                            2.0,
                                            2.0};
// shape [3, 4]
const std::vector<double> kSoftmax1 = {
    0.11993459218728239,   0.8072924010052791,   0.06955039003459192, 0.0032226167728466085,
    0.0053689605402880225, 0.22357647569306405,  0.7326190882728697,  0.03843547549377821,
    0.0018389805284042759, 0.010004926823524543, 0.39273996157332247, 0.5954161310747488};
// shape [3, 4]
const std::vector<double> kSoftmax0 = {
    0.9039286699000185,   0.6843062904448066,   0.032405288491063104, 0.002177975291782858,
    0.06309840625364635,  0.29551821382264315,  0.532271277969309,    0.0405055956536784,
    0.032972923846334955, 0.020175495732550244, 0.435323433539628,    0.9573164290545388};
// shape [3, 4]
const std::vector<double> kLogSoftmax1 = {
    -2.120808749908057, -0.2140693454766029, -2.6657037526544065,  -5.737561587082374,
    -5.22712095711462,  -1.498001750333057,  -0.31112937345833946, -3.2587744048830847,
    -6.298543921559414, -4.604677624963738,  -0.9346075615025935,  -0.5184947379311389};
// shape [3, 4]
const std::vector<double> kLogSoftmaxM2 = {
    -0.10100482668097766, -0.37934966854101043, -3.429433644470798,  -6.1293595989880325,
    -2.7630597672238917,  -1.2190248067338159,  -0.630601998611082,  -3.206315150125094,
    -3.412068543806404,   -3.9032864935022156,  -0.8316659987930539, -0.04362129531086597};

// ---- gradients of sum(f(x) * w) at and around the kinks ----------------------------------
// shape [8]
const std::vector<double> kXk = {-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 30.0};
// shape [8]
const std::vector<double> kWk = {0.5,
                                 0.7142857142857143,
                                 0.9285714285714286,
                                 1.1428571428571428,
                                 1.3571428571428572,
                                 1.5714285714285714,
                                 1.7857142857142858,
                                 2.0};
// shape [8]
const std::vector<double> kGradRelu = {
    0.0, 0.0, 0.0, 0.0, 1.3571428571428572, 1.5714285714285714, 1.7857142857142858, 2.0};
// shape [8]
const std::vector<double> kGradLeakyRelu = {0.05,
                                            0.07142857142857144,
                                            0.09285714285714286,
                                            0.11428571428571428,
                                            1.3571428571428572,
                                            1.5714285714285714,
                                            1.7857142857142858,
                                            2.0};
// shape [8]
const std::vector<double> kGradElu = {
    0.04736734913281444, 0.18393972058572117, 0.3942449288132117, 0.7999999999999999,
    1.3571428571428572,  1.5714285714285714,  1.7857142857142858, 2.0};
// shape [8]
const std::vector<double> kGradSelu = {0.1189664361258409, 0.46197757359629577, 0.9901739278270407,
                                       2.0092563895398587, 1.4259513399824377,  1.651101551558612,
                                       1.8762517631347866, 2.101401974710961};
// shape [8]
const std::vector<double> kGradHardtanh = {
    0.0, 0.0, 0.9285714285714286, 1.1428571428571428, 1.3571428571428572, 0.0, 0.0, 0.0};
// shape [8]
const std::vector<double> kGradSoftplus = {
    0.05960146101105877, 0.19210101526428222, 0.35057347816970647, 0.5714285714285714,
    0.844766235202517,   1.1488063378471507,  1.5728519249605044,  2.0};
// shape [8]
const std::vector<double> kGradSoftplusB2T3 = {
    0.008993104981045778, 0.08514494430151254, 0.2497313198435669, 0.5714285714285714,
    0.9921509281407209,   1.384109693965244,   1.7857142857142858, 2.0};
// shape [8]
const std::vector<double> kGradGelu = {
    -0.04261590053909846, -0.05951105041977596, 0.1230402413907059, 0.5714285714285714,
    1.1773148120333639,   1.7023528823520786,   1.9379139304967803, 2.0};
// shape [8]
const std::vector<double> kGradGeluTanh = {
    -0.04304962831180915, -0.0592600598898447, 0.12315651814640353, 0.5714285714285714,
    1.177144869082729,    1.7018007031862297,  1.9394629582564613,  2.0};
// shape [8]
const std::vector<double> kGradMish = {
    -0.05417754621019695, 0.04229768276956787, 0.2688313437768328, 0.6857142857142856,
    1.2030045094140587,   1.648485488728245,   1.9094963112133745, 2.0};
// shape [8]
const std::vector<double> kGradSilu = {
    -0.04539212439244773, 0.051663920091795185, 0.24146461179039475, 0.5714285714285714,
    1.004233039910742,    1.457767947226622,    1.9478290156873135,  2.000000000005422};
// shape [3, 4]
const std::vector<double> kGradSoftmax1 = {
    -0.3448963786734331,   0.15835355258488043, 0.18415470946631088,  0.0023881166222418245,
    -0.010057917578610746, 0.24018812344676435, -0.08247294864217573, -0.1476572572259779,
    0.009287780373327129,  0.04636675470396128, 0.3787278338023237,   -0.43438236887961207};
// shape [3, 4]
const std::vector<double> kGradLogSoftmax0 = {
    0.6875319787971148, -3.4070877705721228, 2.6696743816080155,   3.2859047644392163,
    -1.621797410278357, 0.7589896452368219,  -0.23676819980298663, 0.09970498932722498,
    0.9342654314812417, 2.648098125335301,   -2.4329061818050293,  -3.3856097537664414};

// ---- stability: logits of +-1000 ---------------------------------------------------------
// shape [2, 3]
const std::vector<double> kBig = {1000.0, -1000.0, 0.0, -1000.0, -1000.0, -999.0};
// shape [2, 3]
const std::vector<double> kBigLogSoftmax = {
    0.0, -2000.0, -1000.0, -1.551444713932051, -1.551444713932051, -0.5514447139320511};
// shape [2, 3]
const std::vector<double> kBigSoftmax = {
    1.0, 0.0, 0.0, 0.21194155761708547, 0.21194155761708547, 0.5761168847658291};
// shape [6]
const std::vector<double> kBigSoftplus = {1000.0, 0.0, 0.6931471805599453, 0.0, 0.0, 0.0};
// shape [6]
const std::vector<double> kBigGelu = {1000.0, -0.0, 0.0, -0.0, -0.0, -0.0};
// shape [6]
const std::vector<double> kBigMish = {1000.0, -0.0, 0.0, -0.0, -0.0, -0.0};
// shape [6]
const std::vector<double> kBigElu = {1000.0, -1.0, 0.0, -1.0, -1.0, -1.0};

// ---- helpers -------------------------------------------------------------------------------

Tensor f64(const std::vector<double>& v, const Shape& shape, bool requires_grad = false) {
    return tensor(v, shape, {kFloat64, requires_grad});
}

void check_close(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                 double tol = 1e-12) {
    CHECK(t.shape() == shape);
    auto v = t.to_vector<double>();
    REQUIRE(v.size() == want.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i);
        CHECK(v[i] == Approx(want[i]).margin(tol).epsilon(tol));
    }
}

void expect_gradcheck(const std::string& what, const autograd::TensorFunction& f,
                      const TensorList& inputs) {
    GradcheckOptions opt;
    opt.raise_exception = false;
    auto r = gradcheck(f, inputs, opt);
    INFO(what << ": " << r.report);
    CHECK(r.ok);
}

void expect_gradgradcheck(const std::string& what, const autograd::TensorFunction& f,
                          const TensorList& inputs) {
    GradcheckOptions opt;
    opt.raise_exception = false;
    auto r = gradgradcheck(f, inputs, opt);
    INFO(what << ": " << r.report);
    CHECK(r.ok);
}

using Act = std::function<Tensor(const Tensor&)>;
struct NamedAct {
    const char* name;
    Act f;
    const std::vector<double>* want;  // on kX
};

std::vector<NamedAct> all_activations() {
    return {
        {"sigmoid", [](const Tensor& t) { return F::sigmoid(t); }, &kSigmoid},
        {"tanh", [](const Tensor& t) { return F::tanh(t); }, &kTanh},
        {"relu", [](const Tensor& t) { return F::relu(t); }, &kRelu},
        {"leaky_relu", [](const Tensor& t) { return F::leaky_relu(t); }, &kLeakyRelu},
        {"leaky_relu 0.2", [](const Tensor& t) { return F::leaky_relu(t, 0.2); }, &kLeakyRelu02},
        {"elu", [](const Tensor& t) { return F::elu(t); }, &kElu},
        {"elu 0.5", [](const Tensor& t) { return F::elu(t, 0.5); }, &kElu05},
        {"selu", [](const Tensor& t) { return F::selu(t); }, &kSelu},
        {"gelu", [](const Tensor& t) { return F::gelu(t); }, &kGelu},
        {"gelu tanh", [](const Tensor& t) { return F::gelu(t, "tanh"); }, &kGeluTanh},
        {"silu", [](const Tensor& t) { return F::silu(t); }, &kSilu},
        {"swish", [](const Tensor& t) { return F::swish(t); }, &kSilu},
        {"softplus", [](const Tensor& t) { return F::softplus(t); }, &kSoftplus},
        {"softplus beta 2 threshold 3", [](const Tensor& t) { return F::softplus(t, 2.0, 3.0); },
         &kSoftplusB2T3},
        {"mish", [](const Tensor& t) { return F::mish(t); }, &kMish},
        {"hardtanh", [](const Tensor& t) { return F::hardtanh(t); }, &kHardtanh},
        {"hardtanh -0.5 2", [](const Tensor& t) { return F::hardtanh(t, -0.5, 2.0); },
         &kHardtanhM05P2},
        {"softmax 1", [](const Tensor& t) { return F::softmax(t, 1); }, &kSoftmax1},
        {"softmax 0", [](const Tensor& t) { return F::softmax(t, 0); }, &kSoftmax0},
        {"log_softmax 1", [](const Tensor& t) { return F::log_softmax(t, 1); }, &kLogSoftmax1},
        {"log_softmax -2", [](const Tensor& t) { return F::log_softmax(t, -2); }, &kLogSoftmaxM2},
        {"identity", [](const Tensor& t) { return F::identity(t); }, &kX},
    };
}

bool all_finite(const Tensor& t) {
    for (double v : t.to_vector<double>())
        if (!std::isfinite(v)) return false;
    return true;
}

std::string printed(const nn::Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

}  // namespace

TEST_CASE("activation functions match PyTorch in float64", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4});
    for (const auto& a : all_activations()) {
        INFO(a.name);
        const Tensor y = a.f(x);
        CHECK(y.dtype() == kFloat64);
        check_close(y, {3, 4}, *a.want);
    }
}

TEST_CASE("activation functions match PyTorch in float32", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4}).to(kFloat32);
    for (const auto& a : all_activations()) {
        INFO(a.name);
        const Tensor y = a.f(x);
        CHECK(y.dtype() == kFloat32);
        check_close(y, {3, 4}, *a.want, 2e-6);
    }
}

TEST_CASE("activation gradients at and around kinks match PyTorch", "[nn][activation]") {
    struct Case {
        const char* name;
        Act f;
        const std::vector<double>* want;
    };
    const std::vector<Case> cases = {
        {"relu", [](const Tensor& t) { return F::relu(t); }, &kGradRelu},
        {"leaky_relu 0.1", [](const Tensor& t) { return F::leaky_relu(t, 0.1); }, &kGradLeakyRelu},
        {"elu 0.7", [](const Tensor& t) { return F::elu(t, 0.7); }, &kGradElu},
        {"selu", [](const Tensor& t) { return F::selu(t); }, &kGradSelu},
        {"hardtanh", [](const Tensor& t) { return F::hardtanh(t); }, &kGradHardtanh},
        {"softplus", [](const Tensor& t) { return F::softplus(t); }, &kGradSoftplus},
        {"softplus beta 2 threshold 3", [](const Tensor& t) { return F::softplus(t, 2.0, 3.0); },
         &kGradSoftplusB2T3},
        {"gelu", [](const Tensor& t) { return F::gelu(t); }, &kGradGelu},
        {"gelu tanh", [](const Tensor& t) { return F::gelu(t, "tanh"); }, &kGradGeluTanh},
        {"mish", [](const Tensor& t) { return F::mish(t); }, &kGradMish},
        {"silu", [](const Tensor& t) { return F::silu(t); }, &kGradSilu},
    };
    const Tensor w = f64(kWk, {8});
    for (const auto& c : cases) {
        INFO(c.name);
        Tensor x = f64(kXk, {8}, true);
        (c.f(x) * w).sum().backward();
        REQUIRE(x.grad().defined());
        check_close(x.grad(), {8}, *c.want);
    }
    // Spot checks that make the kink conventions explicit (x = 0 is element 3, x = +-1 are 1, 5).
    CHECK(kGradRelu[3] == 0.0);
    CHECK(kGradLeakyRelu[3] == Approx(0.1 * kWk[3]));
    CHECK(kGradElu[3] == Approx(0.7 * kWk[3]));
    CHECK(kGradHardtanh[1] == 0.0);
    CHECK(kGradHardtanh[5] == 0.0);

    SECTION("softmax and log_softmax") {
        Tensor x = f64(kX, {3, 4}, true);
        Tensor v = f64(kX, {3, 4}).index_select(1, tensor<std::int64_t>({3, 2, 1, 0}));
        (F::softmax(x, 1) * v).sum().backward();
        check_close(x.grad(), {3, 4}, kGradSoftmax1);
        Tensor x2 = f64(kX, {3, 4}, true);
        Tensor v2 = f64(kX, {3, 4}).index_select(0, tensor<std::int64_t>({2, 1, 0}));
        (F::log_softmax(x2, 0) * v2).sum().backward();
        check_close(x2.grad(), {3, 4}, kGradLogSoftmax0);
    }
}

TEST_CASE("activation gradcheck in float64", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4}, true);
    for (const auto& a : all_activations()) {
        auto f = a.f;
        expect_gradcheck(a.name, [f](const TensorList& in) { return f(in[0]); }, {x});
    }
    // A 3-D input, softmax over the middle dim, and a 1-D input.
    Generator g(7);
    const Tensor x3 = randn({2, 3, 4}, g, {kFloat64}).requires_grad_();
    expect_gradcheck("softmax dim 1 of [2, 3, 4]",
                     [](const TensorList& in) { return F::softmax(in[0], 1); }, {x3});
    expect_gradcheck("log_softmax dim -1 of [2, 3, 4]",
                     [](const TensorList& in) { return F::log_softmax(in[0], -1); }, {x3});
    const Tensor x1 = f64({0.3, -2.0, 1.5, 4.0}, {4}, true);
    expect_gradcheck("log_softmax of [4]",
                     [](const TensorList& in) { return F::log_softmax(in[0], 0); }, {x1});
}

TEST_CASE("activation second derivatives (gradgradcheck)", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4}, true);
    const std::vector<std::pair<const char*, Act>> cases = {
        {"softmax", [](const Tensor& t) { return F::softmax(t, 1); }},
        {"log_softmax", [](const Tensor& t) { return F::log_softmax(t, 0); }},
        {"gelu", [](const Tensor& t) { return F::gelu(t); }},
        {"gelu tanh", [](const Tensor& t) { return F::gelu(t, "tanh"); }},
        {"softplus", [](const Tensor& t) { return F::softplus(t); }},
        {"softplus beta 2 threshold 3", [](const Tensor& t) { return F::softplus(t, 2.0, 3.0); }},
        {"mish", [](const Tensor& t) { return F::mish(t); }},
        {"silu", [](const Tensor& t) { return F::silu(t); }},
        {"elu", [](const Tensor& t) { return F::elu(t, 0.5); }},
        {"selu", [](const Tensor& t) { return F::selu(t); }},
        {"leaky_relu", [](const Tensor& t) { return F::leaky_relu(t, 0.2); }},
        {"hardtanh", [](const Tensor& t) { return F::hardtanh(t, -0.5, 2.0); }},
        {"relu", [](const Tensor& t) { return F::relu(t); }},
    };
    for (const auto& [name, f] : cases) {
        auto fn = f;
        expect_gradgradcheck(name, [fn](const TensorList& in) { return fn(in[0]); }, {x});
    }
}

TEST_CASE("piecewise activations differentiate twice through the tape", "[nn][activation]") {
    // f(x) = x * act(x) has f'' = 2 act'(x) + x act''(x): non-zero, so this checks that the
    // where/clamp construction records a differentiable backward (create_graph).
    const std::vector<double> xs = {-1.5, -0.25, 0.75, 2.5};
    struct Case {
        const char* name;
        Act f;
        std::vector<double> want;
    };
    const std::vector<Case> cases = {
        {"leaky_relu 0.3",
         [](const Tensor& t) { return F::leaky_relu(t, 0.3); },
         {0.6, 0.6, 2.0, 2.0}},
        {"hardtanh", [](const Tensor& t) { return F::hardtanh(t); }, {0.0, 2.0, 2.0, 0.0}},
        {"relu", [](const Tensor& t) { return F::relu(t); }, {0.0, 0.0, 2.0, 2.0}},
        {"elu 0.5",
         [](const Tensor& t) { return F::elu(t, 0.5); },
         {0.5 * 0.5 * std::exp(-1.5), 1.75 * 0.5 * std::exp(-0.25), 2.0, 2.0}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        Tensor x = f64(xs, {4}, true);
        auto g = autograd::grad({(x * c.f(x)).sum()}, {x}, {}, {.create_graph = true});
        REQUIRE(g[0].requires_grad());
        auto gg = autograd::grad({g[0].sum()}, {x});
        check_close(gg[0], {4}, c.want);
    }
}

TEST_CASE("activations are stable for inputs of +-1000", "[nn][activation]") {
    const Tensor big = f64(kBig, {2, 3});
    check_close(F::log_softmax(big, 1), {2, 3}, kBigLogSoftmax);
    check_close(F::softmax(big, 1), {2, 3}, kBigSoftmax);
    const Tensor flat = big.reshape({6});
    check_close(F::softplus(flat), {6}, kBigSoftplus);
    check_close(F::gelu(flat), {6}, kBigGelu);
    check_close(F::mish(flat), {6}, kBigMish);
    check_close(F::elu(flat), {6}, kBigElu);

    // float32 as well: exp(1000) overflows float32 long before, but nothing may become inf/NaN.
    const Tensor big32 = big.to(kFloat32);
    check_close(F::log_softmax(big32, 1), {2, 3}, kBigLogSoftmax, 1e-5);
    check_close(F::softmax(big32, 1), {2, 3}, kBigSoftmax, 1e-6);

    // Gradients stay finite too (no 0 * inf from the branch that is not taken).
    for (const auto& f : std::vector<Act>{
             [](const Tensor& t) { return F::softplus(t); },
             [](const Tensor& t) { return F::softplus(t, 0.5, 1e9); },
             [](const Tensor& t) { return F::mish(t); }, [](const Tensor& t) { return F::elu(t); },
             [](const Tensor& t) { return F::selu(t); }, [](const Tensor& t) { return F::gelu(t); },
             [](const Tensor& t) { return F::gelu(t, "tanh"); },
             [](const Tensor& t) { return F::silu(t); },
             [](const Tensor& t) {
                 return F::log_softmax(t.reshape({2, 3}), 1);
             },
             [](const Tensor& t) {
                 return F::softmax(t.reshape({2, 3}), 1);
             }}) {
        for (Dtype d : {kFloat64, kFloat32}) {
            Tensor x = big.reshape({6}).to(d).detach().requires_grad_();
            Tensor y = f(x);
            CHECK(all_finite(y));
            y.sum().backward();
            CHECK(all_finite(x.grad()));
        }
    }
    // softplus with a huge threshold is log(1 + exp(x)) itself: exactly x for x = 1000.
    CHECK(F::softplus(f64({1000.0, -1000.0}, {2}), 1.0, 1e9).to_vector<double>() ==
          std::vector<double>{1000.0, 0.0});
}

TEST_CASE("erf, log1p and expm1 ops", "[nn][activation]") {
    const std::vector<double> xs = {-3.0, -0.7, -1e-9, 0.0, 0.2, 1.3, 5.0};
    const Tensor x = f64(xs, {7});
    std::vector<double> e, l, m;
    for (double v : xs) {
        e.push_back(std::erf(v));
        l.push_back(std::log1p(std::abs(v)));
        m.push_back(std::expm1(v));
    }
    check_close(erf(x), {7}, e, 1e-15);
    check_close(log1p(abs(x)), {7}, l, 1e-15);
    check_close(expm1(x), {7}, m, 1e-15);
    // Accurate where log(1 + x) and exp(x) - 1 lose everything.
    CHECK(log1p(f64({1e-18}, {1})).item<double>() == Approx(1e-18).epsilon(1e-12));
    CHECK(expm1(f64({1e-18}, {1})).item<double>() == Approx(1e-18).epsilon(1e-12));
    CHECK(erf(f64({0.5}, {1}).to(kFloat32)).item<float>() == Approx(std::erf(0.5)).epsilon(1e-6));

    const Tensor xg = f64({-1.2, -0.3, 0.4, 2.0}, {4}, true);
    for (const auto& [name, f] : std::vector<std::pair<const char*, Act>>{
             {"erf", [](const Tensor& t) { return erf(t); }},
             {"log1p", [](const Tensor& t) { return log1p(t * 0.4); }},
             {"expm1", [](const Tensor& t) { return expm1(t); }}}) {
        auto fn = f;
        expect_gradcheck(name, [fn](const TensorList& in) { return fn(in[0]); }, {xg});
        expect_gradgradcheck(name, [fn](const TensorList& in) { return fn(in[0]); }, {xg});
    }
    Tensor x0 = f64({0.0}, {1}, true);
    erf(x0).sum().backward();
    CHECK(x0.grad().item<double>() == Approx(1.1283791670955126));
    CHECK_THROWS_AS(erf(tensor<std::int64_t>({1, 2})), DtypeError);
    CHECK_THROWS_WITH(erf(tensor<std::int64_t>({1, 2})), Catch::Contains("xgrad::erf"));
    CHECK_THROWS_WITH(log1p(Tensor()), Catch::Contains("xgrad::log1p"));
}

TEST_CASE("activation modules compute their functions and match PyTorch", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4});
    struct Case {
        std::shared_ptr<nn::Module> m;
        const std::vector<double>* want;
    };
    const std::vector<Case> cases = {
        {std::make_shared<nn::ReLU>(), &kRelu},
        {std::make_shared<nn::Sigmoid>(), &kSigmoid},
        {std::make_shared<nn::Tanh>(), &kTanh},
        {std::make_shared<nn::LeakyReLU>(), &kLeakyRelu},
        {std::make_shared<nn::LeakyReLU>(0.2), &kLeakyRelu02},
        {std::make_shared<nn::ELU>(), &kElu},
        {std::make_shared<nn::ELU>(0.5), &kElu05},
        {std::make_shared<nn::SELU>(), &kSelu},
        {std::make_shared<nn::GELU>(), &kGelu},
        {std::make_shared<nn::GELU>("tanh"), &kGeluTanh},
        {std::make_shared<nn::SiLU>(), &kSilu},
        {std::make_shared<nn::Swish>(), &kSilu},
        {std::make_shared<nn::Softplus>(), &kSoftplus},
        {std::make_shared<nn::Softplus>(2.0, 3.0), &kSoftplusB2T3},
        {std::make_shared<nn::Mish>(), &kMish},
        {std::make_shared<nn::Hardtanh>(), &kHardtanh},
        {std::make_shared<nn::Hardtanh>(-0.5, 2.0), &kHardtanhM05P2},
        {std::make_shared<nn::Softmax>(1), &kSoftmax1},
        {std::make_shared<nn::Softmax>(0), &kSoftmax0},
        {std::make_shared<nn::LogSoftmax>(1), &kLogSoftmax1},
        {std::make_shared<nn::LogSoftmax>(-2), &kLogSoftmaxM2},
    };
    for (const auto& c : cases) {
        INFO(c.m->name() << "(" << c.m->extra_repr() << ")");
        CHECK(c.m->num_parameters() == 0);
        check_close((*c.m)(x), {3, 4}, *c.want);
        auto m = c.m;
        expect_gradcheck(m->name(), [m](const TensorList& in) { return (*m)(in[0]); },
                         {x.detach().requires_grad_()});
    }
    // In a Sequential, as the seed article's hidden and output layers.
    manual_seed(3);
    nn::Sequential net(nn::Linear(4, 5), nn::GELU(), nn::Linear(5, 3), nn::LogSoftmax(1));
    net.to(kFloat64);
    const Tensor out = net(x);
    CHECK(out.shape() == Shape{3, 3});
    const auto p = F::softmax(out, 1).sum({1}).to_vector<double>();
    for (double v : p) CHECK(v == Approx(1.0).epsilon(1e-12));
    expect_gradcheck("Sequential with GELU and LogSoftmax",
                     [&](const TensorList& in) { return net(in[0]); },
                     {x.detach().requires_grad_()});
}

TEST_CASE("activation modules print like PyTorch", "[nn][activation]") {
    CHECK(nn::ReLU().extra_repr().empty());
    CHECK(nn::LeakyReLU().extra_repr() == "negative_slope=0.01");
    CHECK(nn::LeakyReLU(0.2).extra_repr() == "negative_slope=0.2");
    CHECK(nn::ELU().extra_repr() == "alpha=1.0");
    CHECK(nn::GELU().extra_repr() == "approximate='none'");
    CHECK(nn::GELU("tanh").extra_repr() == "approximate='tanh'");
    CHECK(nn::Softplus().extra_repr() == "beta=1.0, threshold=20.0");
    CHECK(nn::Softplus(0.5, 10).extra_repr() == "beta=0.5, threshold=10.0");
    CHECK(nn::Hardtanh().extra_repr() == "min_val=-1.0, max_val=1.0");
    CHECK(nn::Hardtanh(-0.25, 6).extra_repr() == "min_val=-0.25, max_val=6.0");
    CHECK(nn::Softmax(1).extra_repr() == "dim=1");
    CHECK(nn::LogSoftmax(-1).extra_repr() == "dim=-1");

    CHECK(printed(nn::ReLU()) == "ReLU()\nparameters: 0");
    CHECK(printed(nn::SiLU()) == "SiLU()\nparameters: 0");
    CHECK(printed(nn::Swish()) == "SiLU()\nparameters: 0");
    CHECK(printed(nn::LeakyReLU()) == "LeakyReLU(negative_slope=0.01)\nparameters: 0");
    nn::Sequential net(nn::Linear(2, 3), nn::Tanh(), nn::Linear(3, 2), nn::Softmax(1));
    CHECK(printed(net) ==
          "Sequential(\n"
          "  (0): Linear(in_features=2, out_features=3, bias=true)  # 9 parameters\n"
          "  (1): Tanh()\n"
          "  (2): Linear(in_features=3, out_features=2, bias=true)  # 8 parameters\n"
          "  (3): Softmax(dim=1)\n"
          ")\nparameters: 17");
}

TEST_CASE("activation errors name the function and the value at fault", "[nn][activation]") {
    const Tensor x = f64(kX, {3, 4});
    const Tensor ints = tensor<std::int64_t>({1, -2, 3});

    CHECK_THROWS_AS(F::gelu(x, "fast"), ValueError);
    CHECK_THROWS_WITH(F::gelu(x, "fast"),
                      Catch::Contains("xgrad::nn::gelu") && Catch::Contains("fast"));
    CHECK_THROWS_AS(nn::GELU("erf"), ValueError);
    CHECK_THROWS_WITH(nn::GELU("erf"), Catch::Contains("xgrad::nn::GELU"));

    CHECK_THROWS_AS(F::softmax(x, 2), IndexError);
    CHECK_THROWS_WITH(F::softmax(x, 2),
                      Catch::Contains("xgrad::nn::softmax") && Catch::Contains("dimension 2"));
    CHECK_THROWS_AS(F::log_softmax(x, -3), IndexError);
    CHECK_THROWS_WITH(F::log_softmax(x, -3), Catch::Contains("xgrad::nn::log_softmax"));
    CHECK_THROWS_AS(nn::Softmax(5)(x), IndexError);

    CHECK_THROWS_AS(F::leaky_relu(ints), DtypeError);
    CHECK_THROWS_WITH(F::leaky_relu(ints),
                      Catch::Contains("xgrad::nn::leaky_relu") && Catch::Contains("int64"));
    CHECK_THROWS_AS(F::softmax(ints, 0), DtypeError);
    CHECK_THROWS_WITH(F::softmax(ints, 0), Catch::Contains("xgrad::nn::softmax"));
    CHECK_THROWS_AS(F::gelu(ints), DtypeError);
    CHECK_THROWS_AS(F::mish(ints), DtypeError);
    CHECK_THROWS_AS(F::elu(Tensor()), ValueError);
    CHECK_THROWS_WITH(F::elu(Tensor()), Catch::Contains("xgrad::nn::elu"));

    CHECK_THROWS_AS(F::hardtanh(x, 1.0, -1.0), ValueError);
    CHECK_THROWS_WITH(F::hardtanh(x, 1.0, -1.0),
                      Catch::Contains("xgrad::nn::hardtanh") && Catch::Contains("min_val (1)"));
    CHECK_THROWS_AS(nn::Hardtanh(2.0, 1.0), ValueError);
    CHECK_THROWS_WITH(nn::Hardtanh(2.0, 1.0), Catch::Contains("xgrad::nn::Hardtanh"));
    CHECK_THROWS_AS(F::softplus(x, 0.0), ValueError);
    CHECK_THROWS_WITH(F::softplus(x, 0.0), Catch::Contains("xgrad::nn::softplus"));
    CHECK_THROWS_AS(nn::Softplus(0.0), ValueError);
    CHECK_THROWS_WITH(nn::Softplus(0.0), Catch::Contains("xgrad::nn::Softplus"));
}

TEST_CASE("softmax of a 0-d tensor and of an empty tensor", "[nn][activation]") {
    CHECK(F::softmax(scalar_tensor(3.5), 0).item<double>() == 1.0);
    CHECK(F::log_softmax(scalar_tensor(-2.0), -1).item<double>() == 0.0);
    CHECK(F::softmax(zeros({2, 0}), 1).shape() == Shape{2, 0});
    CHECK(F::log_softmax(zeros({0, 3}), 1).shape() == Shape{0, 3});
}
