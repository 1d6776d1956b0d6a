// Recurrent layers (RNNCell, LSTMCell, GRUCell, LSTM): values and gradients against PyTorch,
// gradcheck in float64 (dropout included), parameter names and initialisation, consistency
// between the cell and the sequence layer, error paths, and a small learning task.
//
// Reference numbers come from tests/reference/nn_recurrent_reference.py (torch 1.13), pasted
// here as literals. Weights and inputs are pattern(shape, s, scale), which the script computes
// identically; weights are loaded through load_state_dict under PyTorch's keys.
#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/xgrad.hpp>

using namespace xgrad;

namespace {

// Value i (row-major) is ((7 i + 3 s) mod 13 - 6) / 4 * scale, as pattern() in the script.
Tensor pattern(const Shape& shape, int s, double scale = 1.0, Dtype dtype = kFloat64,
               bool requires_grad = false) {
    std::vector<double> v(static_cast<std::size_t>(shape_numel(shape)));
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<double>(static_cast<long>((7 * i + 3 * s) % 13) - 6) / 4.0 * scale;
    return tensor(v, shape, TensorOptions{dtype, requires_grad});
}

void check_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
    const std::vector<double> got = t.to_vector<double>();
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i);
        CHECK(got[i] == Approx(expected[i]).margin(tol));
    }
}

using Keys = std::vector<std::pair<std::string, Shape>>;

// PyTorch's parameter keys in its state_dict order, as the script prints them.
Keys cell_keys(std::int64_t gates, bool bias = true) {
    Keys k = {{"weight_ih", {gates * 4, 3}}, {"weight_hh", {gates * 4, 4}}};
    if (bias) {
        k.push_back({"bias_ih", {gates * 4}});
        k.push_back({"bias_hh", {gates * 4}});
    }
    return k;
}
const Keys kLstm2Keys = {{"weight_ih_l0", {16, 3}}, {"weight_hh_l0", {16, 4}},
                         {"bias_ih_l0", {16}},      {"bias_hh_l0", {16}},
                         {"weight_ih_l1", {16, 4}}, {"weight_hh_l1", {16, 4}},
                         {"bias_ih_l1", {16}},      {"bias_hh_l1", {16}}};

// Key k gets pattern(shape, 10 + k, 0.25), as load_pattern() in the script; loaded strictly, so a
// key or shape that differs from PyTorch's fails here.
void load_pattern(nn::Module& m, const Keys& keys, Dtype dtype = kFloat64) {
    nn::StateDict sd;
    for (std::size_t k = 0; k < keys.size(); ++k)
        sd[keys[k].first] = pattern(keys[k].second, 10 + static_cast<int>(k), 0.25, dtype);
    m.to(dtype);
    m.load_state_dict(sd);
}

// ---- printed by tests/reference/nn_recurrent_reference.py ----------------------------------

// RNNCell(3, 4): x = pattern({2, 3}, 1), h = pattern({2, 4}, 2, 0.5)
const std::vector<double> kRnnTanh = {
    0.61613442710552635,  0.093476303969227736, -0.31683500112336599, 0.35152920203809512,
    -0.13970530282831423, 0.12435300177159621,  0.53258728617191942,  -0.69994235131514981};
const std::vector<double> kRnnTanhZeroState = {
    0.30270972933210849,  -0.1549907303716235, -0.39850884211751697, 0.48633601722496234,
    -0.42446436847789382, -0.1549907303716235, 0.33082111749362803,  -0.52130130535457664};
const std::vector<double> kRnnTanhUnbatched = {-0.13970530282831423, 0.12435300177159621,
                                               0.53258728617191942, -0.69994235131514981};
const std::vector<double> kRnnRelu = {0.71875, 0.09375, 0, 0.3671875, 0, 0.125, 0.59375, 0};
const std::vector<double> kRnnNoBias = {
    0.68779020510908517,   0.1549907303716235,  -0.31683500112336599, 0.29559643590422069,
    -0.015623728558408866, 0.18533319990813951, 0.53258728617191942,  -0.73044816515408639};

// LSTMCell(3, 4): c = pattern({2, 4}, 3, 0.5)
const std::vector<double> kLstmCellH = {
    0.082588729145253836, -0.17664497301178894, -0.0051479207688137994, 0.082421882188899939,
    0.082461600271797497, 0.18076760650005966,  -0.045397765583879084,  -0.097509704780135945};
const std::vector<double> kLstmCellC = {
    0.25204074217808553, -0.2690437912072699, -0.0098354731059611122, 0.19945691173418806,
    0.13826730653195718, 0.41042071490622611, -0.085670127898703152,  -0.15253170221582138};
const std::vector<double> kLstmCellZeroStateH = {
    0.0031136729651006683, -0.012468697639070166, -0.11032121627857897,  0.18040163416726965,
    -0.16924931469327828,  0.15056517400993849,   -0.033484092840478485, -0.048287673021140266};
const std::vector<double> kLstmCellZeroStateC = {
    0.0090226308294023248, -0.021594347673989468, -0.24403123272199306,  0.4915947860564206,
    -0.28244106077894421,  0.40878134200088873,   -0.072759084865197388, -0.082716897631681108};
const std::vector<double> kLstmCellUnbatchedH = {0.082588729145253836, -0.17664497301178894,
                                                 -0.0051479207688137994, 0.082421882188899939};
const std::vector<double> kLstmCellUnbatchedC = {0.25204074217808553, -0.2690437912072699,
                                                 -0.0098354731059611122, 0.19945691173418806};
const std::vector<double> kLstmCellNoBiasH = {
    0.17593292833729876, -0.30089100796824181, 0.067062431471949749, -0.028772519182060592,
    0.17644797978680071, 0.1645400332336153,   0.10071216591222462,  -0.1454790049919244};
const std::vector<double> kLstmCellNoBiasC = {
    0.50494505937769507, -0.46026800527706579, 0.12507208239226628, -0.068827685142978004,
    0.28106644149441457, 0.34470484722597111,  0.1863324232269864,  -0.22978059062447964};

// GRUCell(3, 4)
const std::vector<double> kGru = {
    0.11253308482566375,   -0.51015317864534793, -0.18389150404526844, -0.084807598535698081,
    -0.056261659216005011, 0.2817032512597748,   -0.13492572127898381, -0.41480089671126208};
const std::vector<double> kGruZeroState = {
    0.039980798404860268, -0.074681146847916546, -0.305335615950099,    0.38257189953935838,
    -0.19380014395825274, 0.41911597001460932,   -0.080961172187000482, -0.13582745380627109};
const std::vector<double> kGruUnbatched = {-0.056261659216005011, 0.2817032512597748,
                                           -0.13492572127898381, -0.41480089671126208};
const std::vector<double> kGruNoBias = {
    0.35604486616420217,  -0.61434596712249068, -0.036341743066617194, -0.16378278203244395,
    0.026667758206054992, 0.27284293372500479,  0.12501839827914821,   -0.47981314272801678};

// LSTM(3, 4, num_layers=2, batch_first=False): x = pattern({3, 2, 3}, 4),
// h0 = pattern({2, 2, 4}, 5, 0.5), c0 = pattern({2, 2, 4}, 6, 0.5)
const std::vector<double> kLstmSeqFirstOut = {
    -0.042015464161605835, 0.010865897684452005, -0.0088692127001389082, -0.066178089821863156,
    0.02990399463680006,   0.15563972106344814,  0.030010153335447577,   0.011447378947451882,
    -0.19345454128415082,  0.061733042988990731, -0.094233698396080964,  0.051291602443046716,
    -0.13363215217749019,  0.15363785067215052,  -0.083726053613810192,  0.080915011651548546,
    -0.27443879595348003,  0.059877636323067369, -0.11981814780911752,   0.12057815468592327,
    -0.23021627764444672,  0.13083362702074131,  -0.10458976212300326,   0.14010386275565678};
const std::vector<double> kLstmSeqFirstHn = {
    -0.047124738604482484, 0.19532107061793813,   -0.1336373620888533,   0.2270899285290339,
    -0.040229859316616864, -0.018458824835357521, -0.062106210867886452, 0.21201511377425689,
    -0.27443879595348003,  0.059877636323067369,  -0.11981814780911752,  0.12057815468592327,
    -0.23021627764444672,  0.13083362702074131,   -0.10458976212300326,  0.14010386275565678};
const std::vector<double> kLstmSeqFirstCn = {
    -0.12729512850675317, 0.36177611843092222,   -0.31471333660544154, 0.7231003380254527,
    -0.1263184185213968,  -0.033929170035883527, -0.13967459660110529, 0.5858607137677968,
    -0.67245739201639221, 0.090990198313219015,  -0.2830638168031604,  0.30063233496237712,
    -0.54504681310911451, 0.20921916241489541,   -0.25980340183175094, 0.33495475938126668};
const std::vector<double> kLstmSeqFirstZeroOut = {
    -0.15897769480938628, 0.067471723924871441, -0.09644674822140295,  0.088258937064219917,
    -0.14889531095683076, 0.078466536796029454, -0.091204490552539985, 0.076107651767949522,
    -0.24765699916419065, 0.075148295899248319, -0.11519234300617751,  0.1437248401652983,
    -0.24168148085896024, 0.086880080673171531, -0.12573914491023916,  0.11677805432478722,
    -0.29881532903874192, 0.065486601935978342, -0.12286872216982539,  0.17276572299235379,
    -0.28701641253905918, 0.07856574974367711,  -0.11830960275395859,  0.15764521843020582};
const std::vector<double> kLstmSeqFirstZeroHn = {
    -0.037780716271700716, 0.10759015752325692,  -0.14877139688598645,  0.23415208666060536,
    -0.055000046147098164, 0.043552295373136492, -0.056993755933190046, 0.22466296406026889,
    -0.29881532903874192,  0.065486601935978342, -0.12286872216982539,  0.17276572299235379,
    -0.28701641253905918,  0.07856574974367711,  -0.11830960275395859,  0.15764521843020582};
const std::vector<double> kLstmSeqFirstZeroCn = {
    -0.1056186752498145,  0.19052714262174852,  -0.34959811302412441, 0.75471188168114267,
    -0.17344381149074667, 0.081451868832609881, -0.12996404032771891, 0.63990484952194426,
    -0.73476395039680376, 0.10148861274076165,  -0.30285973451027681, 0.44649605473770648,
    -0.71224258513094674, 0.12299101848832726,  -0.29430800166526916, 0.39474175513959675};

// LSTM(3, 4, num_layers=2, batch_first=True): the same x transposed to [N, T, 3], same h0, c0
const std::vector<double> kLstmBatchFirstOut = {
    -0.042015464161605835, 0.010865897684452005, -0.0088692127001389082, -0.066178089821863156,
    -0.19345454128415082,  0.061733042988990731, -0.094233698396080964,  0.051291602443046716,
    -0.27443879595348003,  0.059877636323067369, -0.11981814780911752,   0.12057815468592327,
    0.02990399463680006,   0.15563972106344814,  0.030010153335447577,   0.011447378947451882,
    -0.13363215217749019,  0.15363785067215052,  -0.083726053613810192,  0.080915011651548546,
    -0.23021627764444672,  0.13083362702074131,  -0.10458976212300326,   0.14010386275565678};
const std::vector<double> kLstmBatchFirstZeroOut = {
    -0.15897769480938628, 0.067471723924871441, -0.09644674822140295,  0.088258937064219917,
    -0.24765699916419065, 0.075148295899248319, -0.11519234300617751,  0.1437248401652983,
    -0.29881532903874192, 0.065486601935978342, -0.12286872216982539,  0.17276572299235379,
    -0.14889531095683076, 0.078466536796029454, -0.091204490552539985, 0.076107651767949522,
    -0.24168148085896024, 0.086880080673171531, -0.12573914491023916,  0.11677805432478722,
    -0.28701641253905918, 0.07856574974367711,  -0.11830960275395859,  0.15764521843020582};
// (h_n and c_n with batch_first=True equal the seq-first ones: the script prints them equal.)

// LSTM(3, 4, bias=False), one layer, zero state, x = pattern({3, 2, 3}, 4)
const std::vector<double> kLstmNoBiasOut = {
    -0.021217067305025854, -0.033574923518919865, -0.033608405332025242, -0.021217067305025854,
    -0.092213760154200214, 0.060767853585662598,  0.13193020389820184,   -0.085007954872668295,
    0.088718677982808303,  -0.18046347896972031,  -0.072498505562873752, 0.12241951002860633,
    -0.17891207832653971,  0.14515295478395765,   0.11172172017145747,   -0.17460301397303596,
    0.13571823626370075,   -0.15160634603603257,  -0.13269122465816077,  0.10182748667240701,
    0.065194903653793157,  -0.10140317361997783,  0.050583245481003576,  0.13180918811648765};
const std::vector<double> kLstmNoBiasCn = {
    0.36314644323452316, -0.24640339412386206, -0.28330494864756006, 0.27165939429062375,
    0.17549254085202212, -0.17499636283485284, 0.10716122848271087,  0.33062478458767242};

// Gradients of loss = sum(y * pattern({3, 2, 4}, 7)) + sum(h_n * pattern({2, 2, 4}, 8))
// + sum(c_n * pattern({2, 2, 4}, 9)), LSTM(3, 4, num_layers=2), seq-first, with (h0, c0)
const double kGradLoss = 2.7970410756333561;
const std::vector<double> kGradInput = {
    0.013615270150977705,  0.024859770167849755,  0.013846709563847513, -0.022316417509462252,
    0.052487071430147456,  -0.065410100765351614, 0.04682517268951835,  -0.027540640777999996,
    0.050336523491034874,  0.046524643195285965,  0.1863759018560284,   -0.080327488915629713,
    0.0072769003175585578, -0.07611805976967452,  0.088674855830087176, 0.1118015140243406,
    -0.025684086815384123, 0.20758243024920439};
const std::vector<double> kGradH0 = {
    0.0072492457358907586,  0.017778318716308132, -0.045233208983666576, 0.01611722293506394,
    -0.0042448624601771224, 0.010893638356117783, -0.059389185595473147, 0.027177577577843989,
    0.047726540765115358,   -0.07327253293963798, 0.059369860778242918,  -0.095865535705139795,
    -0.081851210547258038,  0.05058731931439598,  -0.06950589729253287,  -0.032495859686274851};
const std::vector<double> kGradC0 = {
    -0.14091208495870108, 0.074290295149708002,  -0.021026754050833152, 0.056460431455042794,
    -0.21811031149806107, 0.20831597324831391,   -0.021804292830474217, 0.29877809787551829,
    0.17930379192932322,  -0.055334416058284937, 0.13882460431691024,   -0.39743037856137947,
    0.046407379802275862, -0.035571932056114183, 0.31284077209653821,   -0.16782025041894813};
const std::vector<double> kGradWeightHhL0 = {
    -0.038442528117636363,  0.046027022391259879,    -0.010741006909697736,
    0.057834365908613697,   0.0020372424068184382,   0.017770593838439937,
    0.0052837200833057152,  0.056496883090617206,    -0.022773870677934238,
    0.017593082846556085,   -0.00051662319962522403, -0.0019246733959200181,
    -0.095802890829182155,  0.12113720983739661,     -0.027034088495549016,
    0.08094428459870727,    -0.030727067210339278,   0.02390628517140924,
    -0.0013099804043671653, 0.00055516947169551153,  -0.01966004256732428,
    -0.0052782148983234016, -0.0037415307659196969,  -0.030960503120348412,
    0.0045095067442367425,  0.00027772890222353989,  -0.0059720044599441127,
    0.0008231455267234929,  0.024905872461402686,    -0.029350558311650243,
    0.0058620976144104376,  -0.03383170282474332,    0.23846940877298956,
    -0.25603129986385831,   0.040103248179897896,    -0.11725269762342817,
    -0.15963372466564563,   0.16521474939989564,     -0.030793298129049566,
    0.11365073304873374,    0.13913786661720523,     -0.096569754359682541,
    -0.036370323772390495,  -0.04874510809492956,    -0.13570679624351117,
    0.18010341977145289,    -0.016090137525506268,   0.17085891276558246,
    -0.013363241265700647,  0.0016707536759497815,   0.0019124053670015826,
    -0.006374989009206836,  0.0036643166479802562,   -0.0088832367457920211,
    0.0070309666539610316,  -0.00823802891441806,    -0.0045616344854776496,
    -0.0091207381323712942, 0.0098520112604462019,   -0.01862449186782307,
    -0.0094845030092804133, 0.0014385488335766257,   0.0021752512875312059,
    -0.0062240638827559215};
const std::vector<double> kGradWeightIhL1 = {
    -0.01276035158260173,   0.018217530744022218,   -0.012025340583210717,  0.016152875878993202,
    -0.011668800353790651,  0.025142767106839863,   -0.015708014477043834,  0.02943878324929897,
    0.0021956114804786279,  0.020872429767316538,   -0.022074651449399418,  0.019146881502010646,
    0.016501535250297732,   -0.023828584115105009,  0.020867337854722241,   -0.050836371316367535,
    -0.0079075619121251259, 0.022938435244647535,   -0.0098823868694370969, 0.020362310729417379,
    -0.011531933261584248,  0.018138180716433812,   -0.0094463099872009581, 0.019330975145219552,
    -0.012357977840116562,  0.0097360011948194533,  0.01121420354307984,    0.0020740501024312766,
    -0.0020565955907784718, 0.0057728060521136278,  0.0043244611707175815,  -0.011103198307201653,
    0.013571512380243315,   -0.0081162692770084081, 0.03328125920206837,    -0.029639948996630829,
    -0.12642827778407681,   0.34399615191246924,    -0.21912182893347915,   0.41375538424053743,
    0.0019028038139557151,  -0.074259494351634162,  0.059638218842339726,   -0.055032046000089971,
    0.09467088140061114,    -0.11979193799085611,   0.043108143282869493,   -0.14316961098885356,
    -0.021932295239190658,  0.017970538358749334,   -0.017888522715284471,  0.031898660947395401,
    -0.0097594679520338658, 0.0072101757627492458,  -0.01534906566349196,   0.035007593517575201,
    -0.016175145864978573,  0.028635065869769088,   -0.013786917271959277,  0.030850833107882357,
    -0.018262170410287753,  0.042949941878653017,   -0.021772160887405561,  0.037120031856268193};
const std::vector<double> kGradBiasIhL1 = {
    0.11127302886950978,   0.15503127446303067, -0.01711768414471166,  -0.27227647448276304,
    0.12774497950753771,   0.13231923045078856, 0.15460764562296747,   -0.022312252480580178,
    -0.066477939345406981, 2.0501416660153651,  -0.032735931982423416, -1.1533318964136303,
    0.23226054876335522,   0.16275712882681961, 0.20414012167685841,   0.22608368795616998};

// ---- helpers ------------------------------------------------------------------------------

Tensor x_cell() {
    return pattern({2, 3}, 1);
}
Tensor h_cell() {
    return pattern({2, 4}, 2, 0.5);
}
Tensor c_cell() {
    return pattern({2, 4}, 3, 0.5);
}
Tensor x_seq() {
    return pattern({3, 2, 3}, 4);  // [T, N, input]
}
Tensor h0_seq() {
    return pattern({2, 2, 4}, 5, 0.5);
}
Tensor c0_seq() {
    return pattern({2, 2, 4}, 6, 0.5);
}

nn::LSTM pattern_lstm(bool batch_first) {
    nn::LSTMOptions o;
    o.num_layers = 2;
    o.batch_first = batch_first;
    nn::LSTM lstm(3, 4, o);
    load_pattern(lstm, kLstm2Keys);
    return lstm;
}

// All outputs of a function flattened into one vector, so gradcheck sees the whole Jacobian.
Tensor flat(const TensorList& parts) {
    TensorList f;
    for (const auto& p : parts) f.push_back(reshape(p, {-1}));
    return concat(f, 0);
}

}  // namespace

// ---- forward values against PyTorch -------------------------------------------------------

TEST_CASE("RNNCell matches PyTorch (tanh, relu, zero state, unbatched, no bias)",
          "[nn][recurrent]") {
    nn::RNNCell cell(3, 4);
    load_pattern(cell, cell_keys(1));
    const Tensor y = cell(x_cell(), h_cell());
    CHECK(y.shape() == Shape{2, 4});
    check_values(y, kRnnTanh);
    check_values(cell(x_cell()), kRnnTanhZeroState);
    // The single-input Module interface runs one step from a zero state.
    nn::Module& as_module = cell;
    check_values(as_module(x_cell()), kRnnTanhZeroState);
    const Tensor u = cell(x_cell().select(0, 1), h_cell().select(0, 1));
    CHECK(u.shape() == Shape{4});
    check_values(u, kRnnTanhUnbatched);

    nn::RNNCellOptions relu_opts;
    relu_opts.nonlinearity = "relu";
    nn::RNNCell relu_cell(3, 4, relu_opts);
    load_pattern(relu_cell, cell_keys(1));
    check_values(relu_cell(x_cell(), h_cell()), kRnnRelu);

    nn::RNNCell no_bias(3, 4, nn::RNNCellOptions{false, "tanh"});
    CHECK(no_bias.named_parameters().size() == 2);
    CHECK_FALSE(no_bias.bias_ih.defined());
    load_pattern(no_bias, cell_keys(1, false));
    check_values(no_bias(x_cell(), h_cell()), kRnnNoBias);
}

TEST_CASE("LSTMCell matches PyTorch (state, zero state, unbatched, no bias)", "[nn][recurrent]") {
    nn::LSTMCell cell(3, 4);
    load_pattern(cell, cell_keys(4));
    const auto [h, c] = cell(x_cell(), {h_cell(), c_cell()});
    CHECK(h.shape() == Shape{2, 4});
    CHECK(c.shape() == Shape{2, 4});
    check_values(h, kLstmCellH);
    check_values(c, kLstmCellC);

    const nn::LSTMState zero = cell(x_cell());
    check_values(zero.h, kLstmCellZeroStateH);
    check_values(zero.c, kLstmCellZeroStateC);
    nn::Module& as_module = cell;
    check_values(as_module(x_cell()), kLstmCellZeroStateH);

    const nn::LSTMState u =
        cell(x_cell().select(0, 0), {h_cell().select(0, 0), c_cell().select(0, 0)});
    CHECK(u.h.shape() == Shape{4});
    CHECK(u.c.shape() == Shape{4});
    check_values(u.h, kLstmCellUnbatchedH);
    check_values(u.c, kLstmCellUnbatchedC);

    nn::LSTMCell no_bias(3, 4, false);
    load_pattern(no_bias, cell_keys(4, false));
    const nn::LSTMState nb = no_bias(x_cell(), {h_cell(), c_cell()});
    check_values(nb.h, kLstmCellNoBiasH);
    check_values(nb.c, kLstmCellNoBiasC);
}

TEST_CASE("GRUCell matches PyTorch (state, zero state, unbatched, no bias)", "[nn][recurrent]") {
    nn::GRUCell cell(3, 4);
    load_pattern(cell, cell_keys(3));
    check_values(cell(x_cell(), h_cell()), kGru);
    check_values(cell(x_cell()), kGruZeroState);
    const Tensor u = cell(x_cell().select(0, 1), h_cell().select(0, 1));
    CHECK(u.shape() == Shape{4});
    check_values(u, kGruUnbatched);

    nn::GRUCell no_bias(3, 4, false);
    load_pattern(no_bias, cell_keys(3, false));
    check_values(no_bias(x_cell(), h_cell()), kGruNoBias);
}

TEST_CASE("LSTM (2 layers) matches PyTorch, seq-first and batch-first, with and without state",
          "[nn][recurrent]") {
    SECTION("batch_first = false") {
        nn::LSTM lstm = pattern_lstm(false);
        const auto [y, state] = lstm(x_seq(), {h0_seq(), c0_seq()});
        CHECK(y.shape() == Shape{3, 2, 4});
        CHECK(state.h.shape() == Shape{2, 2, 4});
        CHECK(state.c.shape() == Shape{2, 2, 4});
        check_values(y, kLstmSeqFirstOut);
        check_values(state.h, kLstmSeqFirstHn);
        check_values(state.c, kLstmSeqFirstCn);

        const nn::LSTMOutput zero = lstm(x_seq());
        check_values(zero.output, kLstmSeqFirstZeroOut);
        check_values(zero.state.h, kLstmSeqFirstZeroHn);
        check_values(zero.state.c, kLstmSeqFirstZeroCn);
        nn::Module& as_module = lstm;
        check_values(as_module(x_seq()), kLstmSeqFirstZeroOut);
    }
    SECTION("batch_first = true") {
        nn::LSTM lstm = pattern_lstm(true);
        const Tensor x = x_seq().transpose(0, 1);  // [N, T, input]
        const auto [y, state] = lstm(x, {h0_seq(), c0_seq()});
        CHECK(y.shape() == Shape{2, 3, 4});
        // The state stays [num_layers, N, hidden] with batch_first, as in PyTorch.
        CHECK(state.h.shape() == Shape{2, 2, 4});
        check_values(y, kLstmBatchFirstOut);
        check_values(state.h, kLstmSeqFirstHn);
        check_values(state.c, kLstmSeqFirstCn);

        const nn::LSTMOutput zero = lstm(x);
        check_values(zero.output, kLstmBatchFirstZeroOut);
        check_values(zero.state.h, kLstmSeqFirstZeroHn);
        check_values(zero.state.c, kLstmSeqFirstZeroCn);
    }
    SECTION("float32 (the default dtype)") {
        nn::LSTMOptions o;
        o.num_layers = 2;
        nn::LSTM lstm(3, 4, o);
        load_pattern(lstm, kLstm2Keys, kFloat32);
        const auto [y, state] =
            lstm(x_seq().to(kFloat32), {h0_seq().to(kFloat32), c0_seq().to(kFloat32)});
        CHECK(y.dtype() == kFloat32);
        check_values(y, kLstmSeqFirstOut, 1e-6);
        check_values(state.c, kLstmSeqFirstCn, 1e-6);
    }
    SECTION("no bias, one layer") {
        nn::LSTMOptions o;
        o.bias = false;
        nn::LSTM lstm(3, 4, o);
        CHECK(lstm.named_parameters().size() == 2);
        load_pattern(lstm, {{"weight_ih_l0", {16, 3}}, {"weight_hh_l0", {16, 4}}});
        const nn::LSTMOutput out = lstm(x_seq());
        check_values(out.output, kLstmNoBiasOut);
        check_values(out.state.c, kLstmNoBiasCn);
        // With one layer, h_n is the last output.
        check_values(out.state.h,
                     std::vector<double>(kLstmNoBiasOut.end() - 8, kLstmNoBiasOut.end()));
    }
}

// ---- gradients ----------------------------------------------------------------------------

TEST_CASE("LSTM gradients match PyTorch", "[nn][recurrent]") {
    nn::LSTM lstm = pattern_lstm(false);
    Tensor x = pattern({3, 2, 3}, 4, 1.0, kFloat64, true);
    Tensor h0 = pattern({2, 2, 4}, 5, 0.5, kFloat64, true);
    Tensor c0 = pattern({2, 2, 4}, 6, 0.5, kFloat64, true);
    const auto [y, state] = lstm(x, {h0, c0});
    const Tensor loss = (y * pattern({3, 2, 4}, 7)).sum() +
                        (state.h * pattern({2, 2, 4}, 8)).sum() +
                        (state.c * pattern({2, 2, 4}, 9)).sum();
    CHECK(loss.item<double>() == Approx(kGradLoss).margin(1e-12));
    loss.backward();
    check_values(x.grad(), kGradInput);
    check_values(h0.grad(), kGradH0);
    check_values(c0.grad(), kGradC0);
    check_values(lstm.weight_hh[0].grad(), kGradWeightHhL0);
    check_values(lstm.weight_ih[1].grad(), kGradWeightIhL1);
    check_values(lstm.bias_ih[1].grad(), kGradBiasIhL1);
    // The two biases of a layer enter the gates as a sum, so their gradients agree.
    check_values(lstm.bias_hh[1].grad(), kGradBiasIhL1);
    for (const auto& [name, p] : lstm.named_parameters()) {
        INFO(name);
        REQUIRE(p.grad().defined());
        CHECK(p.grad().shape() == p.shape());
        CHECK(p.grad().abs().sum().item<double>() > 0.0);
    }
}

TEST_CASE("gradcheck: RNNCell, LSTMCell and GRUCell in float64", "[nn][recurrent][gradcheck]") {
    manual_seed(11);
    Tensor x = (randn({2, 3}, TensorOptions{kFloat64})).requires_grad_();
    Tensor h = (randn({2, 4}, TensorOptions{kFloat64}) * 0.5).detach().requires_grad_();
    Tensor c = (randn({2, 4}, TensorOptions{kFloat64}) * 0.5).detach().requires_grad_();

    SECTION("RNNCell tanh and relu") {
        for (const char* act : {"tanh", "relu"}) {
            INFO(act);
            nn::RNNCell cell(3, 4, nn::RNNCellOptions{true, act});
            cell.to(kFloat64);
            TensorList inputs = {x, h};
            for (auto& p : cell.parameters()) inputs.push_back(p);
            CHECK(autograd::gradcheck([&](const TensorList& in) { return cell(in[0], in[1]); },
                                      inputs)
                      .ok);
        }
    }
    SECTION("LSTMCell") {
        nn::LSTMCell cell(3, 4);
        cell.to(kFloat64);
        TensorList inputs = {x, h, c};
        for (auto& p : cell.parameters()) inputs.push_back(p);
        CHECK(autograd::gradcheck(
                  [&](const TensorList& in) {
                      const nn::LSTMState s = cell(in[0], {in[1], in[2]});
                      return flat({s.h, s.c});
                  },
                  inputs)
                  .ok);
    }
    SECTION("GRUCell, batched and unbatched") {
        nn::GRUCell cell(3, 4);
        cell.to(kFloat64);
        TensorList inputs = {x, h};
        for (auto& p : cell.parameters()) inputs.push_back(p);
        CHECK(autograd::gradcheck([&](const TensorList& in) { return cell(in[0], in[1]); }, inputs)
                  .ok);
        Tensor xu = x.select(0, 0).detach().requires_grad_();
        Tensor hu = h.select(0, 0).detach().requires_grad_();
        CHECK(
            autograd::gradcheck([&](const TensorList& in) { return cell(in[0], in[1]); }, {xu, hu})
                .ok);
    }
}

TEST_CASE("gradcheck: LSTM over a short sequence in float64", "[nn][recurrent][gradcheck]") {
    manual_seed(12);
    nn::LSTMOptions o;
    o.num_layers = 2;
    SECTION("seq-first, input, initial state and every parameter") {
        nn::LSTM lstm(2, 3, o);
        lstm.to(kFloat64);
        Tensor x = randn({3, 2, 2}, TensorOptions{kFloat64, true});
        Tensor h0 = (randn({2, 2, 3}, TensorOptions{kFloat64}) * 0.5).detach().requires_grad_();
        Tensor c0 = (randn({2, 2, 3}, TensorOptions{kFloat64}) * 0.5).detach().requires_grad_();
        TensorList inputs = {x, h0, c0};
        for (auto& p : lstm.parameters()) inputs.push_back(p);
        CHECK(inputs.size() == 11);
        CHECK(autograd::gradcheck(
                  [&](const TensorList& in) {
                      const nn::LSTMOutput r = lstm(in[0], {in[1], in[2]});
                      return flat({r.output, r.state.h, r.state.c});
                  },
                  inputs)
                  .ok);
    }
    SECTION("batch-first, 6 steps, dropout between layers (train mode, one mask per evaluation)") {
        o.batch_first = true;
        o.dropout = 0.4;
        nn::LSTM lstm(2, 3, o);
        lstm.to(kFloat64);
        REQUIRE(lstm.is_training());
        Tensor x = randn({2, 6, 2}, TensorOptions{kFloat64, true});  // T = 6: cut by halving
        TensorList inputs = {x, lstm.weight_ih[0], lstm.weight_hh[1]};
        CHECK(autograd::gradcheck(
                  [&](const TensorList& in) {
                      manual_seed(99);  // the same dropout mask in every evaluation
                      const nn::LSTMOutput r = lstm(in[0]);
                      return flat({r.output, r.state.c});
                  },
                  inputs)
                  .ok);
    }
}

// ---- structure, consistency and modes -----------------------------------------------------

TEST_CASE("recurrent layers: PyTorch parameter names, shapes and initialisation",
          "[nn][recurrent]") {
    auto names_and_shapes = [](const nn::Module& m) {
        Keys out;
        for (const auto& [n, p] : m.named_parameters()) out.push_back({n, p.shape()});
        return out;
    };
    CHECK(names_and_shapes(nn::RNNCell(3, 4)) == cell_keys(1));
    CHECK(names_and_shapes(nn::LSTMCell(3, 4)) == cell_keys(4));
    CHECK(names_and_shapes(nn::GRUCell(3, 4)) == cell_keys(3));
    nn::LSTMOptions o;
    o.num_layers = 2;
    CHECK(names_and_shapes(nn::LSTM(3, 4, o)) == kLstm2Keys);

    // Every parameter is U(-1/sqrt(hidden), 1/sqrt(hidden)), from the seeded generator.
    manual_seed(3);
    nn::LSTM a(5, 16, o);
    manual_seed(3);
    nn::LSTM b(5, 16, o);
    const double bound = 1.0 / std::sqrt(16.0);
    for (const auto& [name, p] : a.named_parameters()) {
        INFO(name);
        CHECK(p.dtype() == kFloat32);
        CHECK(p.requires_grad());
        CHECK(p.max().item<double>() <= bound);
        CHECK(p.min().item<double>() >= -bound);
        CHECK(p.max().item<double>() > 0.8 * bound);  // spread over the whole interval
        CHECK(p.min().item<double>() < -0.8 * bound);
        CHECK(std::abs(p.mean().item<double>()) < 0.05);
    }
    const auto pa = a.parameters(), pb = b.parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i)
        CHECK(pa[i].to_vector<float>() == pb[i].to_vector<float>());
    CHECK(a.weight_ih[0].to_vector<float>() != a.weight_hh[0].to_vector<float>());
    CHECK(a.num_parameters() == 4 * 16 * (5 + 16 + 2) + 4 * 16 * (16 + 16 + 2));

    std::ostringstream os;
    os << a;
    CHECK_THAT(os.str(), Catch::Contains("LSTM(input_size=5, hidden_size=16, num_layers=2, "
                                         "bias=true, batch_first=false, dropout=0)"));
    std::ostringstream cs;
    cs << nn::RNNCell(2, 3, nn::RNNCellOptions{true, "relu"});
    CHECK_THAT(cs.str(), Catch::Contains("nonlinearity=relu"));
}

TEST_CASE("LSTM agrees with stepping an LSTMCell, and resumes from a returned state",
          "[nn][recurrent]") {
    manual_seed(21);
    nn::LSTM lstm(3, 5);
    lstm.to(kFloat64);
    nn::LSTMCell cell(3, 5);
    cell.to(kFloat64);
    // The one-layer LSTM's parameters under the cell's names.
    nn::StateDict sd;
    for (const auto& [name, p] : lstm.named_parameters()) sd[name.substr(0, name.size() - 3)] = p;
    cell.load_state_dict(sd);

    // Nine steps with an input that requires grad: the LSTM then cuts the sequence by halving
    // (see recurrent.cpp); the cell is fed plain per-step slices of a copy.
    const std::int64_t T = 9;
    const Tensor x = randn({T, 2, 3}, TensorOptions{kFloat64, true});
    const Tensor x2 = x.detach().clone().requires_grad_();
    const nn::LSTMOutput full = lstm(x);
    nn::LSTMState s;
    TensorList hs;
    for (std::int64_t t = 0; t < T; ++t) {
        s = cell(x2.select(0, t), s);
        hs.push_back(s.h);
        check_values(s.h, full.output.select(0, t).to_vector<double>(), 1e-14);
    }
    check_values(s.c, full.state.c.to_vector<double>(), 1e-14);
    const Tensor w = pattern({T, 2, 5}, 1);
    (full.output * w).sum().backward();
    (stack(hs, 0) * w).sum().backward();
    check_values(x.grad(), x2.grad().to_vector<double>(), 1e-12);
    check_values(lstm.weight_hh[0].grad(), cell.weight_hh.grad().to_vector<double>(), 1e-12);
    CHECK(x.grad().abs().min().item<double>() > 0.0);

    // Four steps, then the other five from the returned state: the same sequence.
    const nn::LSTMOutput first = lstm(x.narrow(0, 0, 4));
    const nn::LSTMOutput rest = lstm(x.narrow(0, 4, T - 4), first.state);
    check_values(rest.output, full.output.narrow(0, 4, T - 4).to_vector<double>(), 1e-14);
    check_values(rest.state.h, full.state.h.to_vector<double>(), 1e-14);
    // Only h0 given: c0 is zeros.
    const nn::LSTMOutput half = lstm(x, {zeros({1, 2, 5}, TensorOptions{kFloat64}), Tensor()});
    check_values(half.output, full.output.to_vector<double>(), 1e-14);
}

TEST_CASE("LSTM dropout acts between layers in training mode only", "[nn][recurrent]") {
    manual_seed(31);
    nn::LSTMOptions o;
    o.num_layers = 2;
    o.dropout = 0.5;
    nn::LSTM lstm(3, 6, o);
    const Tensor x = randn({5, 4, 3});

    lstm.eval();
    const nn::LSTMOutput ev1 = lstm(x), ev2 = lstm(x);
    CHECK(ev1.output.to_vector<float>() == ev2.output.to_vector<float>());

    lstm.train();
    manual_seed(1);
    const nn::LSTMOutput tr1 = lstm(x);
    manual_seed(1);
    const nn::LSTMOutput tr1_again = lstm(x);
    manual_seed(2);
    const nn::LSTMOutput tr2 = lstm(x);
    CHECK(tr1.output.to_vector<float>() == tr1_again.output.to_vector<float>());
    CHECK(tr1.output.to_vector<float>() != tr2.output.to_vector<float>());
    CHECK(tr1.output.to_vector<float>() != ev1.output.to_vector<float>());
    // The first layer's final state is taken before dropout; only the second layer differs.
    check_values(tr1.state.h.select(0, 0), ev1.state.h.select(0, 0).to_vector<double>(), 0.0);
    check_values(tr1.state.c.select(0, 0), ev1.state.c.select(0, 0).to_vector<double>(), 0.0);
    CHECK(tr1.state.h.select(0, 1).to_vector<float>() !=
          ev1.state.h.select(0, 1).to_vector<float>());

    // With one layer there is nothing to drop between.
    nn::LSTMOptions one;
    one.dropout = 0.5;
    nn::LSTM single(3, 6, one);
    single.eval();
    const Tensor e = single(x).output;
    single.train();
    CHECK(single(x).output.to_vector<float>() == e.to_vector<float>());
}

TEST_CASE("recurrent layers fit a Sequential and train with their parameters", "[nn][recurrent]") {
    manual_seed(41);
    nn::Sequential model(nn::LSTM(2, 4), nn::Linear(4, 1));
    const Tensor y = model(randn({6, 3, 2}));
    CHECK(y.shape() == Shape{6, 3, 1});
    y.sum().backward();
    CHECK(model.parameters().size() == 6);
    for (const auto& p : model.parameters()) CHECK(p.grad().defined());
}

// ---- bad input ----------------------------------------------------------------------------

TEST_CASE("recurrent layers: bad input is a clear error", "[nn][recurrent]") {
    nn::LSTMOptions o;
    o.num_layers = 2;
    nn::LSTM lstm(3, 4, o);
    const Tensor x = randn({5, 2, 3});

    // Wrong input size.
    CHECK_THROWS_AS(lstm(randn({5, 2, 7})), ShapeError);
    CHECK_THROWS_WITH(lstm(randn({5, 2, 7})), Catch::Contains("xgrad::nn::LSTM") &&
                                                  Catch::Contains("[5, 2, 7]") &&
                                                  Catch::Contains("input_size=3"));
    // A 2-D (unbatched) sequence.
    CHECK_THROWS_AS(lstm(randn({5, 3})), ShapeError);
    CHECK_THROWS_WITH(lstm(randn({5, 3})), Catch::Contains("xgrad::nn::LSTM") &&
                                               Catch::Contains("3-D") && Catch::Contains("[5, 3]"));
    // Wrong hidden shapes: one layer's worth, a wrong batch, c0 wrong while h0 is right.
    CHECK_THROWS_AS(lstm(x, {zeros({1, 2, 4}), zeros({1, 2, 4})}), ShapeError);
    CHECK_THROWS_WITH(lstm(x, {zeros({1, 2, 4}), zeros({1, 2, 4})}),
                      Catch::Contains("xgrad::nn::LSTM") && Catch::Contains("h0") &&
                          Catch::Contains("[2, 2, 4]") && Catch::Contains("[1, 2, 4]"));
    CHECK_THROWS_WITH(lstm(x, {zeros({2, 2, 4}), zeros({2, 3, 4})}),
                      Catch::Contains("xgrad::nn::LSTM") && Catch::Contains("c0") &&
                          Catch::Contains("[2, 3, 4]"));
    // An empty sequence, an undefined input, a dtype that differs from the parameters.
    CHECK_THROWS_AS(lstm(zeros({0, 2, 3})), ShapeError);
    CHECK_THROWS_WITH(lstm(zeros({0, 2, 3})), Catch::Contains("xgrad::nn::LSTM"));
    CHECK_THROWS_AS(lstm(Tensor()), ValueError);
    CHECK_THROWS_AS(lstm(x.to(kFloat64)), DtypeError);
    CHECK_THROWS_WITH(lstm(x.to(kFloat64)),
                      Catch::Contains("xgrad::nn::LSTM") && Catch::Contains("float64"));

    // Cells: wrong input size, wrong hidden shape, hidden batched while input is not.
    nn::LSTMCell lstm_cell(3, 4);
    CHECK_THROWS_AS(lstm_cell(randn({2, 5})), ShapeError);
    CHECK_THROWS_WITH(lstm_cell(randn({2, 5})),
                      Catch::Contains("xgrad::nn::LSTMCell") && Catch::Contains("[2, 5]"));
    CHECK_THROWS_WITH(lstm_cell(randn({2, 3}), {zeros({2, 4}), zeros({3, 4})}),
                      Catch::Contains("xgrad::nn::LSTMCell") && Catch::Contains("[3, 4]") &&
                          Catch::Contains("[2, 4]"));
    CHECK_THROWS_AS(lstm_cell(randn({3}), {zeros({1, 4}), Tensor()}), ShapeError);
    CHECK_THROWS_AS(lstm_cell(randn({2, 2, 3})), ShapeError);
    nn::GRUCell gru(3, 4);
    CHECK_THROWS_WITH(gru(randn({2, 4})), Catch::Contains("xgrad::nn::GRUCell"));
    CHECK_THROWS_WITH(gru(randn({2, 3}), zeros({2, 5})), Catch::Contains("xgrad::nn::GRUCell") &&
                                                             Catch::Contains("hx") &&
                                                             Catch::Contains("[2, 5]"));
    nn::RNNCell rnn(3, 4);
    CHECK_THROWS_AS(rnn(randn({2, 4})), ShapeError);
    CHECK_THROWS_WITH(rnn(randn({2, 3}), zeros({4})), Catch::Contains("xgrad::nn::RNNCell"));
    CHECK_THROWS_AS(rnn(randn({2, 3}, TensorOptions{kFloat64})), DtypeError);

    // Bad constructor arguments.
    CHECK_THROWS_AS(nn::RNNCell(3, 4, nn::RNNCellOptions{true, "sigmoid"}), ValueError);
    CHECK_THROWS_WITH(nn::RNNCell(3, 4, nn::RNNCellOptions{true, "sigmoid"}),
                      Catch::Contains("xgrad::nn::RNNCell") && Catch::Contains("sigmoid"));
    CHECK_THROWS_AS(nn::LSTMCell(0, 4), ValueError);
    CHECK_THROWS_AS(nn::GRUCell(3, -1), ValueError);
    nn::LSTMOptions bad_layers;
    bad_layers.num_layers = 0;
    CHECK_THROWS_WITH(nn::LSTM(3, 4, bad_layers),
                      Catch::Contains("xgrad::nn::LSTM") && Catch::Contains("num_layers"));
    nn::LSTMOptions bad_dropout;
    bad_dropout.dropout = 1.5;
    CHECK_THROWS_WITH(nn::LSTM(3, 4, bad_dropout),
                      Catch::Contains("xgrad::nn::LSTM") && Catch::Contains("dropout"));
}

// ---- learning -----------------------------------------------------------------------------

TEST_CASE("an LSTM + Linear learns the sum of a short sequence with plain SGD",
          "[nn][recurrent][train]") {
    manual_seed(7);
    const std::int64_t T = 5, N = 64;
    const Tensor x = rand({T, N, 1}) * 2.0 - 1.0;  // U(-1, 1)
    const Tensor target = x.sum({0});              // [N, 1]
    nn::LSTM lstm(1, 12);
    nn::Linear head(12, 1);
    std::vector<Tensor> params = lstm.parameters();
    for (const auto& p : head.parameters()) params.push_back(p);

    auto loss_fn = [&]() {
        const Tensor last = lstm(x).state.h.select(0, 0);  // h_T of the only layer, [N, 12]
        const Tensor d = head(last) - target;
        return (d * d).mean();
    };
    const double lr = 0.1;
    double first = 0.0, last = 0.0;
    for (int step = 0; step < 300; ++step) {
        for (auto& p : params) p.zero_grad();
        const Tensor loss = loss_fn();
        if (step == 0) first = loss.item<double>();
        last = loss.item<double>();
        loss.backward();
        NoGradGuard no_grad;
        for (auto& p : params) p.copy_(p - p.grad() * lr);
    }
    last = loss_fn().item<double>();
    INFO("loss " << first << " -> " << last);
    CHECK(std::isfinite(last));
    CHECK(last < first / 10.0);
}
