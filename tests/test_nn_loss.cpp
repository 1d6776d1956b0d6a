// Costs (loss functions and modules): values and gradients against PyTorch 1.13 (literals
// printed by tests/reference/nn_activation_loss_reference.py) for every reduction and option,
// gradcheck / gradgradcheck in float64, stability for logits of +-1000, modules (options,
// buffers, printing) and every error path.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
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
using nn::Reduction;

namespace {

// ---- reference values (tests/reference/nn_activation_loss_reference.py) ------------------
// shape [3, 4]
const std::vector<double> kA = {0.39733866159012243, 1.7824147201228708,  1.8185948536513634,
                                0.47849865842796396, -1.2237157818854385, -1.9998465151282017,
                                -1.2625332757446417, 0.43023997617563103, 1.7974161916232538,
                                1.8043436675125881,  0.4457798282004953,  -1.2501412977857642};
// shape [3, 4]
const std::vector<double> kB = {1.633004733688409,   1.5815914910043276,  0.8803941821383663,
                                -0.14080314203963,   -1.0017154233204006, -1.2974421636921296,
                                -0.8888984563002109, 0.03177120959741769, 1.0315615042687412,
                                1.640255429975549,   1.571574722352979,   0.8578209913615866};

// ---- mse / l1 / smooth_l1 / huber --------------------------------------------------------
// shape [3, 4]
const std::vector<double> kMseNone = {1.5268706417348081,   0.04032996935359891, 0.8802205000274388,
                                      0.3835347200624036,   0.04928415920300538, 0.493371872916329,
                                      0.13960297830127238,  0.15877735793836267, 0.5865334021428783,
                                      0.026924949698011787, 1.267414143699802,   4.44350501246734};
// shape []
const std::vector<double> kMseMean = {0.8330308089621044};
// shape []
const std::vector<double> kMseSum = {9.996369707545252};
// shape [3, 4]
const std::vector<double> kL1None = {1.2356660720982866,  0.20082322911854322, 0.9382006715129971,
                                     0.619301800467594,   0.22200035856503786, 0.702404351436072,
                                     0.3736348194444308,  0.39846876657821334, 0.7658546873545127,
                                     0.16408823753703916, 1.1257948941524838,  2.107962289147351};
// shape []
const std::vector<double> kL1Mean = {0.7378500147843802};
// shape []
const std::vector<double> kL1Sum = {8.854200177412562};
// shape [3, 4]
const std::vector<double> kSmoothL1None = {
    0.7356660720982866,  0.020164984676799454, 0.4401102500137194,  0.1917673600312018,
    0.02464207960150269, 0.2466859364581645,   0.06980148915063619, 0.07938867896918134,
    0.29326670107143915, 0.013462474849005894, 0.6257948941524838,  1.607962289147351};
// shape []
const std::vector<double> kSmoothL1Mean = {0.3623927675183143};
// shape []
const std::vector<double> kSmoothL1Sum = {4.348713210219771};
// shape [3, 4]
const std::vector<double> kSmoothL1B05None = {
    0.9856660720982866,  0.04032996935359891,  0.6882006715129971,  0.369301800467594,
    0.04928415920300538, 0.45240435143607205,  0.13960297830127238, 0.15877735793836267,
    0.5158546873545127,  0.026924949698011787, 0.8757948941524838,  1.857962289147351};
// shape []
const std::vector<double> kSmoothL1B05Mean = {0.5133420150552958};
// shape []
const std::vector<double> kSmoothL1B05Sum = {6.160104180663549};
// shape []
const std::vector<double> kSmoothL1B0Mean = {0.7378500147843802};
// shape [3, 4]
const std::vector<double> kHuberNone = {
    0.7356660720982866,  0.020164984676799454, 0.4401102500137194,  0.1917673600312018,
    0.02464207960150269, 0.2466859364581645,   0.06980148915063619, 0.07938867896918134,
    0.29326670107143915, 0.013462474849005894, 0.6257948941524838,  1.607962289147351};
// shape []
const std::vector<double> kHuberMean = {0.3623927675183143};
// shape []
const std::vector<double> kHuberSum = {4.348713210219771};
// shape [3, 4]
const std::vector<double> kHuberD07None = {
    0.6199662504688006,  0.020164984676799454, 0.411740470059098,   0.1917673600312018,
    0.02464207960150269, 0.24668304600525043,  0.06980148915063619, 0.07938867896918134,
    0.2910982811481589,  0.013462474849005894, 0.5430564259067386,  1.2305736024031455};
// shape []
const std::vector<double> kHuberD07Mean = {0.31186209527245995};
// shape []
const std::vector<double> kHuberD07Sum = {3.742345143269519};
// shape [3, 4]
const std::vector<double> kGradMseA = {
    -0.20594434534971442, 0.03347053818642387,  0.15636677858549952,  0.10321696674459899,
    -0.03700005976083964, -0.11706739190601201, -0.06227246990740513, 0.06641146109636889,
    0.12764244789241877,  0.027348039589506525, -0.1876324823587473,  -0.3513270481912252};
// shape [3, 4]
const std::vector<double> kGradMseB = {
    0.20594434534971442,  -0.03347053818642387,  -0.15636677858549952, -0.10321696674459899,
    0.03700005976083964,  0.11706739190601201,   0.06227246990740513,  -0.06641146109636889,
    -0.12764244789241877, -0.027348039589506525, 0.1876324823587473,   0.3513270481912252};
// shape [3, 4]
const std::vector<double> kGradL1SumA = {-1.0, 1.0, 1.0, 1.0, -1.0, -1.0,
                                         -1.0, 1.0, 1.0, 1.0, -1.0, -1.0};
// shape [3, 4]
const std::vector<double> kGradSmoothL1B05A = {
    -0.08333333333333333, 0.03347053818642387,  0.08333333333333333,  0.08333333333333333,
    -0.03700005976083964, -0.08333333333333333, -0.06227246990740513, 0.06641146109636889,
    0.08333333333333333,  0.027348039589506525, -0.08333333333333333, -0.08333333333333333};
// shape [3, 4]
const std::vector<double> kGradHuberD07A = {
    -0.05833333333333333, 0.016735269093211935, 0.05833333333333333,   0.05160848337229949,
    -0.01850002988041982, -0.05833333333333333, -0.031136234953702564, 0.033205730548184445,
    0.05833333333333333,  0.013674019794753262, -0.05833333333333333,  -0.05833333333333333};

// ---- binary_cross_entropy ----------------------------------------------------------------
// shape [3, 4]
const std::vector<double> kBceT = {0.5,
                                   0.9456036800307177,
                                   0.904248201909795,
                                   0.42112715292837566,
                                   0.024198963055241995,
                                   0.14722983721480404,
                                   0.6557706817566893,
                                   0.9940841169385003,
                                   0.7924585964458808,
                                   0.27123205311233933,
                                   4.896724648262296e-06,
                                   0.2751762677327001};
// shape [4]
const std::vector<double> kBceW = {0.5, 1.0, 2.0, 1.5};
// shape [3, 4]
const std::vector<double> kBceNone = {0.712753462138322,  0.2524478037125039,  0.32449458978724294,
                                      0.7592389122856121, 0.28745531936883684, 0.42138338500184236,
                                      1.0770837904742692, 0.5035344579130357,  0.5263828122634829,
                                      1.4673104338872058, 0.9406718785450106,  0.5959068325000472};
// shape []
const std::vector<double> kBceMean = {0.6557219731564509};
// shape []
const std::vector<double> kBceSum = {7.868663677877411};
// shape [3, 4]
const std::vector<double> kBceWeightedNone = {
    0.356376731069161,   0.2524478037125039,  0.6489891795744859, 1.1388583684284181,
    0.14372765968441842, 0.42138338500184236, 2.1541675809485383, 0.7553016868695537,
    0.26319140613174147, 1.4673104338872058,  1.881343757090021,  0.8938602487500708};
// shape []
const std::vector<double> kBceWeightedMean = {0.8647465200956633};
// shape []
const std::vector<double> kBceWeightedSum = {10.37695824114796};
// shape [3, 4]
const std::vector<double> kGradBceP = {
    0.033989723133554424, -0.06057878401128313, -0.030423098314109876, 0.0692388182964586,
    0.09636232767602686,  -0.0222295527272458,  -0.21098987070597394,  -0.13546478415847854,
    0.044671982629946344, 0.4034064156677597,   0.2134739173761766,    -0.02527597236907901};
// shape [3, 4]
const std::vector<double> kGradBceWeightedSumP = {
    0.20393833880132656, -0.7269454081353975, -0.730154359538637, 1.2462987293362549,
    0.5781739660561611,  -0.2667546327269496, -5.063756896943374, -2.438366114852614,
    0.26803189577967806, 4.840876988013116,   5.1233740170282385, -0.45496750264342223};
// shape [3, 4]
const std::vector<double> kGradBceThroughSigmoidA = {
    0.00817067311317519,   -0.007467408427834952,  -0.0036542305606143124, 0.016355511606230617,
    0.016923686672066684,  -0.0023342332769837686, -0.03626938088197187,   -0.03234609548900261,
    0.0054479601843517205, 0.048953734304024214,   0.05080254052851085,    -0.00437504893934447};
// shape [6]
const std::vector<double> kBceEdgeP = {0.0, 1.0, 0.0, 1.0, 1e-50, 0.5};
// shape [6]
const std::vector<double> kBceEdgeT = {1.0, 0.0, 0.0, 1.0, 1.0, 0.25};
// shape [6]
const std::vector<double> kBceEdgeNone = {100.0, 100.0, 0.0, -0.0, 100.0, 0.6931471805599453};

// ---- binary_cross_entropy_with_logits ----------------------------------------------------
// shape [4]
const std::vector<double> kBcePosW = {1.0, 3.0, 0.5, 2.0};
// shape [3, 4]
const std::vector<double> kBceLogitsNone = {
    0.7127534621383221, 0.25244780371250386, 0.32449458978724294, 0.759238912285612,
    0.2874553193688368, 0.4213833850018422,  1.0770837904742692,  0.5035344579130359,
    0.5263828122634827, 1.467310433887206,   0.9406718785450108,  0.5959068325000472};
// shape []
const std::vector<double> kBceLogitsMean = {0.6557219731564509};
// shape []
const std::vector<double> kBceLogitsSum = {7.868663677877411};
// shape [3, 4]
const std::vector<double> kBceLogitsPosNone = {
    0.7127534621383221, 0.5465135316453892, 0.2565128199868766, 0.9623270739495576,
    0.2874553193688367, 1.0476381073161842, 0.5814245178891678, 1.0015598728659234,
    0.5263828122634827, 1.5499616775982472, 0.9406706668646156, 1.0092322947950318};
// shape []
const std::vector<double> kBceLogitsPosMean = {0.7852026797234696};
// shape []
const std::vector<double> kBceLogitsPosSum = {9.422432156681635};
// shape [3, 4]
const std::vector<double> kBceLogitsPosWNone = {
    0.35637673106916107, 0.5465135316453892, 0.5130256399737532, 1.4434906109243364,
    0.14372765968441836, 1.0476381073161842, 1.1628490357783356, 1.502339809298885,
    0.26319140613174136, 1.5499616775982472, 1.8813413337292313, 1.5138484421925478};
// shape []
const std::vector<double> kBceLogitsPosWMean = {0.9936919987785192};
// shape []
const std::vector<double> kBceLogitsPosWSum = {11.924303985342231};
// shape [3, 4]
const std::vector<double> kGradBceLogitsA = {
    0.00817067311317519,   -0.007467408427834952,  -0.0036542305606143133, 0.01635551160623062,
    0.01692368667206668,   -0.0023342332769837686, -0.036269380881971854,  -0.03234609548900261,
    0.0054479601843517205, 0.048953734304024214,   0.05080254052851085,    -0.00437504893934447};
// shape [3, 4]
const std::vector<double> kGradBceLogitsPosWA = {
    0.004085336556587595,  -0.03016271959765482,  0.003211152896962157,  0.004392508216122262,
    0.00846184333603334,   -0.023947106222518222, -0.029943073910658646, -0.09748636356303204,
    0.0027239800921758602, 0.04256517361681635,   0.10160524034935853,   -0.03330022404260696};
// shape [5]
const std::vector<double> kBigLogits = {1000.0, -1000.0, 1000.0, -1000.0, 0.0};
// shape [5]
const std::vector<double> kBigLogitsT = {1.0, 1.0, 0.0, 0.0, 1.0};
// shape [5]
const std::vector<double> kBceLogitsBigNone = {0.0, 1000.0, 1000.0, 0.0, 0.6931471805599453};
// shape [5]
const std::vector<double> kGradBceLogitsBig = {0.0, -1.0, 1.0, 0.0, -0.5};

// ---- cross_entropy with class indices, logits [4, 5] -------------------------------------
// shape [4, 5]
const std::vector<double> kLogits = {
    2.1036774620197414,  2.5497701534965356,  2.664297947088884,   2.445294574087022,
    1.9359356445142795,  1.2186950308563609,  0.40418241632283797, -0.38382720688179417,
    -1.0251459020982487, -1.4194396616121887, -1.499808143910252,  -1.2418393210601972,
    -0.6669135321695321, 0.16069024521298636, 1.1424942531622555,  2.159150455931946,
    3.0865937367058214,  3.8128335291430435,  4.253111215160906,   4.361371806271677};
// shape [4]
const std::vector<std::int64_t> kY = {1, 0, 4, 2};
// shape [4]
const std::vector<std::int64_t> kYIgnored = {1, -100, 4, 2};
// shape [4]
const std::vector<std::int64_t> kYCustom = {1, 2, 4, 2};
// shape [5]
const std::vector<double> kClassW = {0.2, 1.0, 0.5, 2.0, 1.5};
// shape [4]
const std::vector<double> kCeNone = {1.4359261738414595, 0.5998184022321, 0.5316472939912463,
                                     1.6011896148298865};
// shape []
const std::vector<double> kCeMean = {1.0421453712236732};
// shape []
const std::vector<double> kCeSum = {4.168581484894693};
// shape [4]
const std::vector<double> kCeWNone = {1.4359261738414595, 0.11996368044642002, 0.7974709409868694,
                                      0.8005948074149433};
// shape []
const std::vector<double> kCeWMean = {0.9856111258405288};
// shape []
const std::vector<double> kCeWSum = {3.153955602689692};
// shape [4]
const std::vector<double> kCeIgnNone = {1.4359261738414595, 0.0, 0.5316472939912463,
                                        1.6011896148298865};
// shape []
const std::vector<double> kCeIgnMean = {1.189587694220864};
// shape []
const std::vector<double> kCeIgnSum = {3.568763082662592};
// shape [4]
const std::vector<double> kCeWIgnNone = {1.4359261738414595, 0.0, 0.7974709409868694,
                                         0.8005948074149433};
// shape []
const std::vector<double> kCeWIgnMean = {1.0113306407477574};
// shape []
const std::vector<double> kCeWIgnSum = {3.0339919222432723};
// shape [4]
const std::vector<double> kCeIgn2None = {1.4359261738414595, 0.0, 0.5316472939912463, 0.0};
// shape []
const std::vector<double> kCeIgn2Mean = {0.9837867339163529};
// shape []
const std::vector<double> kCeIgn2Sum = {1.9675734678327057};
// shape [4]
const std::vector<double> kCeLsNone = {1.4569236735669837, 0.7457986117859968, 0.6880042492827667,
                                       1.629011752879923};
// shape []
const std::vector<double> kCeLsMean = {1.1299345718789178};
// shape []
const std::vector<double> kCeLsSum = {4.519738287515671};
// shape [4]
const std::vector<double> kCeWIgnLsNone = {1.4938798857838549, 0.0, 0.9798036284277303,
                                           0.9476678305906017};
// shape []
const std::vector<double> kCeWIgnLsMean = {1.1404504482673956};
// shape []
const std::vector<double> kCeWIgnLsSum = {3.4213513448021873};
// shape [4, 5]
const std::vector<double> kGradCe = {
    0.03807058940999742,  -0.1905262675276988,  0.06669050157530348,  0.05357374760534474,
    0.03219142893705316,  -0.11277217297200681, 0.060772045245688716, 0.027636027836801802,
    0.014553064393446953, 0.009811035496069357, 0.010459505966638692, 0.013537722522067802,
    0.0240565146319761,   0.05503721627360505,  -0.10309095939428764, 0.00964643319397796,
    0.02438654414203481,  -0.19958587957339535, 0.07830010852806149,  0.08725279370932112};
// shape [4, 5]
const std::vector<double> kGradCeWIgnLs = {0.04850020550036986,
                                           -0.20006730355722718,
                                           0.08296536745054121,
                                           0.04533645011491665,
                                           0.02326528049139944,
                                           0.0,
                                           0.0,
                                           0.0,
                                           0.0,
                                           0.0,
                                           0.016969312534703036,
                                           0.012081484414761954,
                                           0.038495430135763134,
                                           0.07665653401764787,
                                           -0.14420276110287605,
                                           0.0051533751759181325,
                                           0.006436025117809552,
                                           -0.0991309530408325,
                                           0.036808621313415175,
                                           0.050732931433689656};
// shape [4, 5]
const std::vector<double> kGradCeIgn2Sum = {0.15228235763998968,
                                            -0.7621050701107952,
                                            0.26676200630121394,
                                            0.21429499042137895,
                                            0.12876571574821263,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.04183802386655477,
                                            0.05415089008827121,
                                            0.0962260585279044,
                                            0.2201488650944202,
                                            -0.41236383757715056,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0,
                                            0.0};

// ---- cross_entropy with class probabilities ----------------------------------------------
// shape [4, 5]
const std::vector<double> kProbs = {
    0.4172971623812638,   0.3266743200367824,  0.16640144285641464,  0.06505759737307014,
    0.024569477352469032, 0.1418821192872429,  0.09725134423470481,  0.10824210416542122,
    0.19056561221461438,  0.46205882009801663, 0.07263114837896717,  0.16993381683407327,
    0.2810155689249665,   0.290395780062885,   0.18602368579910802,  0.5978899818712747,
    0.22343846615596716,  0.08966785280737169, 0.048321451900340796, 0.04068224726504556};
// shape [4]
const std::vector<double> kCePNone = {1.6249003212999635, 2.499063552238635, 1.9223231552979405,
                                      2.70858943592431};
// shape []
const std::vector<double> kCePMean = {2.188719116190212};
// shape []
const std::vector<double> kCePSum = {8.754876464760848};
// shape [4]
const std::vector<double> kCePWLsNone = {1.1191100792801199, 3.456882155606844, 1.86959703125527,
                                         1.2142403108102264};
// shape []
const std::vector<double> kCePWLsMean = {1.914957394238115};
// shape []
const std::vector<double> kCePWLsSum = {7.65982957695246};
// shape [4, 5]
const std::vector<double> kGradCeP = {
    -0.06625370118531854,  -0.022194847536894408, 0.025090140861199824,  0.0373093482620772,
    0.0260490595989359,    0.10175729720618246,   0.03645920918701251,   0.000575501795446496,
    -0.03308833866020664,  -0.1057036695284348,   -0.007698281128103101, -0.028945731686450517,
    -0.046197377599265524, -0.017561728742116207, 0.10040311915593536,   -0.13982606227384073,
    -0.03147307239695698,  0.02799715722476171,   0.06621974555297629,   0.07708223189305972};
// shape [4, 5]
const std::vector<double> kGradCePWLs = {
    0.008071316915480417,  -0.0342602646406154,  0.026404162616514876, -0.004223263643904007,
    0.004008048752524119,  0.16014499122687595,  0.04608981262881085,  0.01851699360033007,
    -0.07820838825350968,  -0.14654340920250714, 0.007578373227618538, -0.02786554022449824,
    -0.005628357040304508, -0.07440575868342832, 0.10032128272061257,  -0.020932534107128663,
    -0.03986859690378659,  0.017963874784577585, 0.012985111744057126, 0.029852144482280542};

// ---- cross_entropy [N, C, d] = [2, 3, 4] with targets [2, 4], and one sample [C] ---------
// shape [2, 3, 4]
const std::vector<double> kLogits3 = {
    -1.1682550269259515, 0.6253796995382985,   2.1934374891806874,  2.9703136810115334,
    2.6757859528601387,  1.416091623869648,    -0.3543925676754534, -1.9970459551383566,
    -2.919356949675521,  -2.788644319231575,   -1.652056627792915,  0.08043443855367706,
    1.783912484046986,   2.8439262245641563,   2.8781245016785943,  1.8741718612625773,
    0.19419800069269766, -1.5558238485879277,  -2.744653867916342,  -2.9434763564311854,
    -2.0805752543313707, -0.46720240995093587, 1.3146921958335354,  2.6223721147346932};
// shape [2, 4]
const std::vector<std::int64_t> kY3 = {0, 2, 1, 1, 2, -100, 0, 1};
// shape [3]
const std::vector<double> kClassW3 = {1.0, 0.25, 2.0};
// shape [2, 4]
const std::vector<double> kCe3None = {3.868853380012371,   4.588941005270253, 2.642801196945006,
                                      5.028026072582757,   4.067393894338525, 0.0,
                                      0.19312188998182522, 5.955891122831003};
// shape []
const std::vector<double> kCe3Mean = {3.7635755088516776};
// shape []
const std::vector<double> kCe3Sum = {26.345028561961744};
// shape [2, 4]
const std::vector<double> kCe3WLsNone = {3.985800278197561,   8.608388818239227, 0.8825170010942949,
                                         1.3719313434097873,  7.614170646624873, 0.0,
                                         0.34581654586796884, 1.4536522022761504};
// shape []
const std::vector<double> kCe3WLsMean = {3.594411383068128};
// shape []
const std::vector<double> kCe3WLsSum = {24.262276835709862};
// shape [2, 3, 4]
const std::vector<double> kGradCe3WLs = {-0.13515215028196048,   0.08237705835712346,
                                         0.03997032984044533,    0.04153763538162552,
                                         0.1444872105560247,     0.19129273418700377,
                                         -0.031053745565419004,  -0.034244358989863076,
                                         -0.009335060274064196,  -0.27366979254412727,
                                         -0.008916584275026332,  -0.0072932763917624415,
                                         0.2258583458786982,     0.0,
                                         -0.015123259772023789,  0.010883035465068636,
                                         0.04584421336227107,    0.0,
                                         -0.0007894378024232018, -0.034439973613755705,
                                         -0.2717025592409693,    0.0,
                                         0.015912697574446997,   0.023556938148687066};
// shape [2, 3, 4]
const std::vector<double> kProbs3 = {
    0.5866769523616283,  0.6374931510215927,  0.6614477019856903,  0.6560604691716988,
    0.3100805449410437,  0.2632079083761025,  0.2308788724002777,  0.21268174436696347,
    0.1032425026973281,  0.09929894060230482, 0.10767342561403198, 0.1312577864613378,
    0.09920770826478523, 0.10381092603453539, 0.12044052652480429, 0.15068904274079087,
    0.265462374584738,   0.31308705177345614, 0.3709657619740209,  0.42868696967691805,
    0.6353299171504768,  0.5831020221920085,  0.5085937115011747,  0.42062398758229114};
// shape [2, 4]
const std::vector<double> kCe3PNone = {2.857679203207366,  1.305804323023753,  1.0972687954365012,
                                       1.4964523012528566, 3.0801402122761026, 3.3558347019089583,
                                       3.0741319913802316, 2.888794946424263};
// shape []
const std::vector<double> kCe3PMean = {2.394513309363754};
// shape []
const std::vector<double> kCe3PSum = {19.156106474910032};
// shape []
const std::vector<double> kCeSingleNone = {1.5134513019405156};
// shape []
const std::vector<double> kCeSingleMean = {1.5134513019405156};
// shape []
const std::vector<double> kCeSingleSum = {1.5134513019405156};

// ---- cross_entropy stability: logits of +-1000 -------------------------------------------
// shape [3, 3]
const std::vector<double> kBigCeLogits = {1000.0, -1000.0, 0.0,     -1000.0, 1000.0,
                                          999.0,  -1000.0, -1000.0, -1000.0};
// shape [3]
const std::vector<std::int64_t> kBigCeY = {0, 2, 1};
// shape [3]
const std::vector<double> kBigCeNone = {-0.0, 1.3132616875182228, 1.0986122886681098};
// shape [3, 3]
const std::vector<double> kGradBigCe = {0.0,
                                        0.0,
                                        0.0,
                                        0.0,
                                        0.7310585786300049,
                                        -0.7310585786300049,
                                        0.3333333333333333,
                                        -0.6666666666666667,
                                        0.3333333333333333};

// ---- nll_loss ----------------------------------------------------------------------------
// shape [4]
const std::vector<double> kNllNone = {1.4359261738414595, 0.5998184022321, 0.5316472939912463,
                                      1.6011896148298865};
// shape []
const std::vector<double> kNllMean = {1.0421453712236732};
// shape []
const std::vector<double> kNllSum = {4.168581484894693};
// shape [4]
const std::vector<double> kNllWIgnNone = {1.4359261738414595, 0.0, 0.7974709409868694,
                                          0.8005948074149433};
// shape []
const std::vector<double> kNllWIgnMean = {1.0113306407477574};
// shape []
const std::vector<double> kNllWIgnSum = {3.0339919222432723};
// shape [2, 4]
const std::vector<double> kNll3WNone = {3.868853380012371,   9.177882010540506, 0.6607002992362515,
                                        1.2570065181456893,  8.13478778867705,  0.0,
                                        0.19312188998182522, 1.4889727807077509};
// shape []
const std::vector<double> kNll3WMean = {3.6713073581187325};
// shape []
const std::vector<double> kNll3WSum = {24.781324667301444};
// shape [4, 5]
const std::vector<double> kGradNllWIgn = {0.0,  -0.3333333333333333,
                                          0.0,  0.0,
                                          0.0,  0.0,
                                          0.0,  0.0,
                                          0.0,  0.0,
                                          0.0,  0.0,
                                          0.0,  0.0,
                                          -0.5, 0.0,
                                          0.0,  -0.16666666666666666,
                                          0.0,  0.0};

// ---- kl_div ------------------------------------------------------------------------------
// shape [4, 5]
const std::vector<double> kKlTarget = {
    0.4172971623812638,   0.3266743200367824,   0.16640144285641464,
    0.06505759737307014,  0.024569477352469032, 0.1418821192872429,
    0.09725134423470481,  0.10824210416542122,  0.0,
    0.46205882009801663,  0.07263114837896717,  0.16993381683407327,
    0.2810155689249665,   0.290395780062885,    0.18602368579910802,
    0.5978899818712747,   0.22343846615596716,  0.08966785280737169,
    0.048321451900340796, 0.04068224726504556};
// shape [4, 5]
const std::vector<double> kKlNone = {
    0.4206614846980049,   0.10359973186188576,    -0.07853377653682414,
    -0.0775538954673678,  -0.04069908571734213,   -0.19195803842003803,
    -0.0890944322147906,  -0.0022778701689070147, 0.0,
    1.1393862307880502,   0.040062490421819946,   0.19434219905467476,
    0.3011671598428629,   0.08042243219555073,    -0.21397076381741634,
    1.638531945888479,    0.1851880765196932,     -0.07267161124410296,
    -0.09031123520536857, -0.08743884748673356};
// shape [4, 5]
const std::vector<double> kKlLogNone = {
    0.42066148469800496,  0.10359973186188579,  -0.07853377653682414, -0.07755389546736781,
    -0.04069908571734213, -0.19195803842003803, -0.0890944322147906,  -0.0022778701689070043,
    0.22599187625553316,  1.1393862307880502,   0.04006249042181996,  0.19434219905467479,
    0.3011671598428629,   0.08042243219555077,  -0.2139707638174164,  1.638531945888479,
    0.18518807651969316,  -0.07267161124410296, -0.0903112352053686,  -0.08743884748673356};
// shape []
const std::vector<double> kKlMean = {0.15794260974960653};
// shape []
const std::vector<double> kKlLogMean = {0.16924220356238315};
// shape []
const std::vector<double> kKlSum = {3.1588521949921304};
// shape []
const std::vector<double> kKlLogSum = {3.384844071247663};
// shape []
const std::vector<double> kKlBatchmean = {0.7897130487480326};
// shape []
const std::vector<double> kKlLogBatchmean = {0.8462110178119158};
// shape [4, 5]
const std::vector<double> kGradKlInput = {
    -0.10432429059531595,  -0.0816685800091956,   -0.04160036071410366,
    -0.016264399343267535, -0.006142369338117258, -0.035470529821810724,
    -0.024312836058676204, -0.027060526041355306, -0.0,
    -0.11551470502450416,  -0.018157787094741792, -0.04248345420851832,
    -0.07025389223124162,  -0.07259894501572126,  -0.046505921449777006,
    -0.14947249546781868,  -0.05585961653899179,  -0.022416963201842922,
    -0.012080362975085199, -0.01017056181626139};
// shape [4, 5]
const std::vector<double> kGradKlTarget = {
    0.5020155434903648,   0.3292836515663527,   0.13201157515714906,
    -0.04802013369260377, -0.16412242040684077, -0.088235077443789,
    0.0209686356628358,   0.2447389461188184,   NAN,
    0.8664725037314254,   0.3878970707332965,   0.5359086594347997,
    0.5179274683916864,   0.31923519358488556,  -0.037558494094791145,
    0.9351310423199455,   0.4572025463046569,   0.04738666375724637,
    -0.21724193734714564, -0.2873280322806894};
// shape [4, 5]
const std::vector<double> kGradKlLogInput = {
    -0.4172971623812638,   -0.32667432003678243, -0.16640144285641464, -0.06505759737307014,
    -0.024569477352469032, -0.1418821192872429,  -0.09725134423470481, -0.10824210416542124,
    -0.19056561221461438,  -0.46205882009801663, -0.07263114837896718, -0.1699338168340733,
    -0.2810155689249665,   -0.290395780062885,   -0.18602368579910805, -0.5978899818712747,
    -0.22343846615596713,  -0.08966785280737169, -0.0483214519003408,  -0.04068224726504555};
// shape [4, 5]
const std::vector<double> kGradKlLogTarget = {
    0.8379586470792688,  0.4302740518986682,   0.0878676663195905,   -0.01249629809429767,
    -0.0161296083648731, -0.05007591913279513, 0.008156912019914211, 0.10596423399651424,
    0.4165574884701475,  1.601445050886067,    0.11269363880078714,  0.3642760158887481,
    0.5821827287678294,  0.3708182122584358,   -0.02794707801830834, 2.236421927759754,
    0.4086265426756603,  0.016996241563268732, -0.0419897833050278,  -0.046756600221688004};

// ---- cosine_embedding_loss, margin_ranking_loss, hinge_embedding_loss --------------------
// shape [3]
const std::vector<std::int64_t> kCosY = {1, -1, -1};
// shape [3]
const std::vector<double> kCosNone = {0.2186210307113693, 0.9852875349139261, 0.5862519220185718};
// shape []
const std::vector<double> kCosMean = {0.5967201625479557};
// shape []
const std::vector<double> kCosSum = {1.790160487643867};
// shape [3]
const std::vector<double> kCosM02None = {0.2186210307113693, 0.7852875349139261,
                                         0.3862519220185718};
// shape []
const std::vector<double> kCosM02Mean = {0.46338682921462243};
// shape []
const std::vector<double> kCosM02Sum = {1.3901604876438673};
// shape [3, 4]
const std::vector<double> kGradCosX1 = {
    -0.06997724518190647, -0.014796664845843716, 0.023089727703407822,   0.025470496069253126,
    -0.0111396600249015,  0.004298246610808382,  -0.0019118656009098067, -0.017315309185349806,
    0.002796545457418642, 0.02941129081593117,   0.058578041809850906,   0.06735841939332116};
// shape [3, 4]
const std::vector<double> kGradCosX2 = {
    0.05063637794589352,  -0.02373729823671418,  -0.056248904255821776,  -0.03106800049496305,
    0.01350676020888436,  -0.009996054837128746, 0.00028104483518676115, 0.02550885957987803,
    0.050113246024017705, 0.033328233479279205,  -0.02451212696287029,   -0.07908301725578608};
// shape []
const std::vector<double> kCosSingle = {1.2813789692886308};
// shape [6]
const std::vector<double> kRank1 = {0.3, -1.2, 2.0, 0.5, -0.7, 1.1};
// shape [6]
const std::vector<double> kRank2 = {0.1, 0.4, 2.5, -0.5, -0.2, 1.0};
// shape [6]
const std::vector<double> kRankY = {1.0, -1.0, 1.0, -1.0, -1.0, 1.0};
// shape [6]
const std::vector<double> kRankNone = {0.0, 0.0, 0.5, 1.0, 0.0, 0.0};
// shape []
const std::vector<double> kRankMean = {0.25};
// shape []
const std::vector<double> kRankSum = {1.5};
// shape [6]
const std::vector<double> kRankM05None = {0.30000000000000004, 0.0, 1.0, 1.5, 5.551115123125783e-17,
                                          0.3999999999999999};
// shape []
const std::vector<double> kRankM05Mean = {0.5333333333333333};
// shape []
const std::vector<double> kRankM05Sum = {3.2};
// shape [6]
const std::vector<double> kGradRankX1 = {-0.16666666666666666, 0.0,
                                         -0.16666666666666666, 0.16666666666666666,
                                         0.16666666666666666,  -0.16666666666666666};
// shape [6]
const std::vector<double> kGradRankX2 = {0.16666666666666666,  -0.0,
                                         0.16666666666666666,  -0.16666666666666666,
                                         -0.16666666666666666, 0.16666666666666666};
// shape [6]
const std::vector<double> kHingeX = {0.3, -1.2, 2.0, 0.5, -0.7, 1.6};
// shape [6]
const std::vector<double> kHingeNone = {0.3, 2.2, 2.0, 0.5, 1.7, 1.6};
// shape []
const std::vector<double> kHingeMean = {1.3833333333333335};
// shape []
const std::vector<double> kHingeSum = {8.3};
// shape [6]
const std::vector<double> kHingeM05None = {0.3, 1.7, 2.0, 0.0, 1.2, 1.6};
// shape []
const std::vector<double> kHingeM05Mean = {1.1333333333333333};
// shape []
const std::vector<double> kHingeM05Sum = {6.8};
// shape [6]
const std::vector<double> kGradHinge = {0.16666666666666666,  -0.16666666666666666,
                                        0.16666666666666666,  -0.16666666666666666,
                                        -0.16666666666666666, 0.16666666666666666};

// ---- helpers -------------------------------------------------------------------------------

Tensor f64(const std::vector<double>& v, const Shape& shape, bool requires_grad = false) {
    return tensor(v, shape, {kFloat64, requires_grad});
}
Tensor i64(const std::vector<std::int64_t>& v, const Shape& shape) {
    return tensor(v, shape);
}
Tensor leaf(const Tensor& t) {
    return t.detach().clone().requires_grad_();
}

void check_close(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                 double tol = 1e-12) {
    CHECK(t.shape() == shape);
    auto v = t.to_vector<double>();
    REQUIRE(v.size() == want.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        INFO("element " << i);
        if (std::isnan(want[i]))
            CHECK(std::isnan(v[i]));
        else
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

bool all_finite(const Tensor& t) {
    for (double v : t.to_vector<double>())
        if (!std::isfinite(v)) return false;
    return true;
}

const Reduction kReductions[] = {Reduction::none, Reduction::mean, Reduction::sum};

// Checks f(reduction) against the none / mean / sum references; none has shape `none_shape`.
void check_reductions(const char* what, const std::function<Tensor(Reduction)>& f,
                      const Shape& none_shape, const std::vector<double>& none,
                      const std::vector<double>& mean, const std::vector<double>& sum,
                      double tol = 1e-12) {
    INFO(what);
    {
        INFO("reduction none");
        check_close(f(Reduction::none), none_shape, none, tol);
    }
    {
        INFO("reduction mean");
        check_close(f(Reduction::mean), {}, mean, tol);
    }
    {
        INFO("reduction sum");
        check_close(f(Reduction::sum), {}, sum, tol);
    }
}

// d loss / d inputs by backward from a scalar loss.
TensorList grads_of(const std::function<Tensor(const TensorList&)>& f, const TensorList& inputs) {
    TensorList leaves;
    for (const auto& t : inputs) leaves.push_back(leaf(t));
    f(leaves).backward();
    TensorList out;
    for (const auto& t : leaves) out.push_back(t.grad());
    return out;
}

std::string printed(const nn::Module& m) {
    std::ostringstream os;
    os << m;
    return os.str();
}

const Tensor A() {
    return f64(kA, {3, 4});
}
const Tensor B() {
    return f64(kB, {3, 4});
}
const Tensor Logits() {
    return f64(kLogits, {4, 5});
}
const Tensor Logits3() {
    return f64(kLogits3, {2, 3, 4});
}

}  // namespace

// ---- regression costs ----------------------------------------------------------------------

TEST_CASE("mse, l1, smooth_l1 and huber match PyTorch for every reduction", "[nn][loss]") {
    const Tensor a = A(), b = B();
    check_reductions(
        "mse", [&](Reduction r) { return F::mse_loss(a, b, {.reduction = r}); }, {3, 4}, kMseNone,
        kMseMean, kMseSum);
    check_reductions(
        "l1", [&](Reduction r) { return F::l1_loss(a, b, {.reduction = r}); }, {3, 4}, kL1None,
        kL1Mean, kL1Sum);
    check_reductions(
        "smooth_l1", [&](Reduction r) { return F::smooth_l1_loss(a, b, {.reduction = r}); }, {3, 4},
        kSmoothL1None, kSmoothL1Mean, kSmoothL1Sum);
    check_reductions(
        "smooth_l1 beta 0.5",
        [&](Reduction r) { return F::smooth_l1_loss(a, b, {.reduction = r, .beta = 0.5}); }, {3, 4},
        kSmoothL1B05None, kSmoothL1B05Mean, kSmoothL1B05Sum);
    check_close(F::smooth_l1_loss(a, b, {.beta = 0.0}), {}, kSmoothL1B0Mean);
    check_close(F::smooth_l1_loss(a, b, {.beta = 0.0}), {}, kL1Mean);  // beta 0 is l1
    check_reductions(
        "huber", [&](Reduction r) { return F::huber_loss(a, b, {.reduction = r}); }, {3, 4},
        kHuberNone, kHuberMean, kHuberSum);
    check_reductions(
        "huber delta 0.7",
        [&](Reduction r) { return F::huber_loss(a, b, {.reduction = r, .delta = 0.7}); }, {3, 4},
        kHuberD07None, kHuberD07Mean, kHuberD07Sum);
    // Defaults are mean; float32 works the same.
    check_close(F::mse_loss(a, b), {}, kMseMean);
    check_close(F::mse_loss(a.to(kFloat32), b.to(kFloat32)), {}, kMseMean, 1e-6);
    CHECK(F::mse_loss(a.to(kFloat32), b.to(kFloat32)).dtype() == kFloat32);
}

TEST_CASE("regression cost gradients match PyTorch", "[nn][loss]") {
    auto g = grads_of([](const TensorList& t) { return F::mse_loss(t[0], t[1]); }, {A(), B()});
    check_close(g[0], {3, 4}, kGradMseA);
    check_close(g[1], {3, 4}, kGradMseB);
    g = grads_of(
        [&](const TensorList& t) { return F::l1_loss(t[0], B(), {.reduction = Reduction::sum}); },
        {A()});
    check_close(g[0], {3, 4}, kGradL1SumA);
    g = grads_of([&](const TensorList& t) { return F::smooth_l1_loss(t[0], B(), {.beta = 0.5}); },
                 {A()});
    check_close(g[0], {3, 4}, kGradSmoothL1B05A);
    g = grads_of([&](const TensorList& t) { return F::huber_loss(t[0], B(), {.delta = 0.7}); },
                 {A()});
    check_close(g[0], {3, 4}, kGradHuberD07A);
}

// ---- binary cross entropy ------------------------------------------------------------------

TEST_CASE("binary_cross_entropy matches PyTorch", "[nn][loss]") {
    const Tensor p = sigmoid(A()), t = f64(kBceT, {3, 4}), w = f64(kBceW, {4});
    check_reductions(
        "bce", [&](Reduction r) { return F::binary_cross_entropy(p, t, {.reduction = r}); }, {3, 4},
        kBceNone, kBceMean, kBceSum);
    check_reductions(
        "bce weighted",
        [&](Reduction r) { return F::binary_cross_entropy(p, t, {.reduction = r, .weight = w}); },
        {3, 4}, kBceWeightedNone, kBceWeightedMean, kBceWeightedSum);

    auto g = grads_of([&](const TensorList& x) { return F::binary_cross_entropy(x[0], t); }, {p});
    check_close(g[0], {3, 4}, kGradBceP, 1e-10);
    g = grads_of(
        [&](const TensorList& x) {
            return F::binary_cross_entropy(x[0], t, {.reduction = Reduction::sum, .weight = w});
        },
        {p});
    check_close(g[0], {3, 4}, kGradBceWeightedSumP, 1e-10);
    g = grads_of([&](const TensorList& x) { return F::binary_cross_entropy(sigmoid(x[0]), t); },
                 {A()});
    check_close(g[0], {3, 4}, kGradBceThroughSigmoidA, 1e-10);
}

TEST_CASE("binary_cross_entropy clamps log at -100 for probabilities 0 and 1", "[nn][loss]") {
    const Tensor p = f64(kBceEdgeP, {6}), t = f64(kBceEdgeT, {6});
    check_close(F::binary_cross_entropy(p, t, {.reduction = Reduction::none}), {6}, kBceEdgeNone);
    CHECK(kBceEdgeNone[0] == 100.0);  // -log(0) clamped
    // The gradient is the derivative of the clamped form: finite everywhere, 0 where clamped.
    Tensor x = leaf(p);
    F::binary_cross_entropy(x, t, {.reduction = Reduction::sum}).backward();
    CHECK(all_finite(x.grad()));
    const auto g = x.grad().to_vector<double>();
    CHECK(g[0] == 0.0);
    CHECK(g[1] == 0.0);
    CHECK(g[5] == Approx((0.5 - 0.25) / (0.5 * 0.5)));
    // float32: sigmoid saturating to exactly 0 or 1 still gives finite values and gradients.
    Tensor z = f64({-200.0, 200.0, 0.0}, {3}).to(kFloat32).requires_grad_();
    Tensor loss = F::binary_cross_entropy(sigmoid(z), tensor({1.0f, 0.0f, 1.0f}),
                                          {.reduction = Reduction::none});
    check_close(loss, {3}, {100.0, 100.0, std::log(2.0)}, 1e-6);
    loss.sum().backward();
    CHECK(all_finite(z.grad()));
}

TEST_CASE("binary_cross_entropy_with_logits matches PyTorch and is stable", "[nn][loss]") {
    const Tensor a = A(), t = f64(kBceT, {3, 4}), w = f64(kBceW, {4}), pw = f64(kBcePosW, {4});
    check_reductions(
        "bce_with_logits",
        [&](Reduction r) { return F::binary_cross_entropy_with_logits(a, t, {.reduction = r}); },
        {3, 4}, kBceLogitsNone, kBceLogitsMean, kBceLogitsSum);
    check_reductions(
        "bce_with_logits pos_weight",
        [&](Reduction r) {
            return F::binary_cross_entropy_with_logits(a, t, {.reduction = r, .pos_weight = pw});
        },
        {3, 4}, kBceLogitsPosNone, kBceLogitsPosMean, kBceLogitsPosSum);
    check_reductions(
        "bce_with_logits weight and pos_weight",
        [&](Reduction r) {
            return F::binary_cross_entropy_with_logits(
                a, t, {.reduction = r, .weight = w, .pos_weight = pw});
        },
        {3, 4}, kBceLogitsPosWNone, kBceLogitsPosWMean, kBceLogitsPosWSum);
    // The same as bce of sigmoid, where that is well conditioned.
    check_close(F::binary_cross_entropy_with_logits(a, t), {},
                F::binary_cross_entropy(sigmoid(a), t).to_vector<double>());

    auto g = grads_of(
        [&](const TensorList& x) { return F::binary_cross_entropy_with_logits(x[0], t); }, {a});
    check_close(g[0], {3, 4}, kGradBceLogitsA);
    g = grads_of(
        [&](const TensorList& x) {
            return F::binary_cross_entropy_with_logits(x[0], t, {.weight = w, .pos_weight = pw});
        },
        {a});
    check_close(g[0], {3, 4}, kGradBceLogitsPosWA);

    // Logits of +-1000 (and exactly 0, where the gradient is -1/2): finite and exact.
    for (Dtype d : {kFloat64, kFloat32}) {
        INFO(dtype_name(d));
        const Tensor zb = f64(kBigLogits, {5}).to(d), tb = f64(kBigLogitsT, {5}).to(d);
        check_close(F::binary_cross_entropy_with_logits(zb, tb, {.reduction = Reduction::none}),
                    {5}, kBceLogitsBigNone, d == kFloat64 ? 1e-12 : 1e-6);
        Tensor z = leaf(zb);
        F::binary_cross_entropy_with_logits(z, tb, {.reduction = Reduction::sum}).backward();
        check_close(z.grad(), {5}, kGradBceLogitsBig);
    }
}

// ---- cross entropy -------------------------------------------------------------------------

TEST_CASE("cross_entropy with class indices matches PyTorch", "[nn][loss]") {
    const Tensor x = Logits(), w = f64(kClassW, {5});
    const Tensor y = i64(kY, {4}), yi = i64(kYIgnored, {4}), yc = i64(kYCustom, {4});
    check_reductions(
        "plain", [&](Reduction r) { return F::cross_entropy(x, y, {.reduction = r}); }, {4},
        kCeNone, kCeMean, kCeSum);
    check_reductions(
        "weight",
        [&](Reduction r) { return F::cross_entropy(x, y, {.reduction = r, .weight = w}); }, {4},
        kCeWNone, kCeWMean, kCeWSum);
    check_reductions(
        "ignore_index -100", [&](Reduction r) { return F::cross_entropy(x, yi, {.reduction = r}); },
        {4}, kCeIgnNone, kCeIgnMean, kCeIgnSum);
    check_reductions(
        "weight and ignore_index",
        [&](Reduction r) { return F::cross_entropy(x, yi, {.reduction = r, .weight = w}); }, {4},
        kCeWIgnNone, kCeWIgnMean, kCeWIgnSum);
    check_reductions(
        "ignore_index 2",
        [&](Reduction r) { return F::cross_entropy(x, yc, {.reduction = r, .ignore_index = 2}); },
        {4}, kCeIgn2None, kCeIgn2Mean, kCeIgn2Sum);
    check_reductions(
        "label_smoothing 0.1",
        [&](Reduction r) {
            return F::cross_entropy(x, y, {.reduction = r, .label_smoothing = 0.1});
        },
        {4}, kCeLsNone, kCeLsMean, kCeLsSum);
    check_reductions(
        "weight, ignore_index and label_smoothing 0.2",
        [&](Reduction r) {
            return F::cross_entropy(x, yi, {.reduction = r, .weight = w, .label_smoothing = 0.2});
        },
        {4}, kCeWIgnLsNone, kCeWIgnLsMean, kCeWIgnLsSum);
    // The weighted mean divides by the summed weights, not by N.
    CHECK(kCeWMean[0] == Approx(kCeWSum[0] / (0.2 * 0 + 1.0 + 0.2 + 1.5 + 0.5)));
    // Ignored targets give exactly 0.
    CHECK(F::cross_entropy(x, yi, {.reduction = Reduction::none}).to_vector<double>()[1] == 0.0);

    auto g = grads_of([&](const TensorList& t) { return F::cross_entropy(t[0], y); }, {x});
    check_close(g[0], {4, 5}, kGradCe);
    g = grads_of(
        [&](const TensorList& t) {
            return F::cross_entropy(t[0], yi, {.weight = w, .label_smoothing = 0.2});
        },
        {x});
    check_close(g[0], {4, 5}, kGradCeWIgnLs);
    g = grads_of(
        [&](const TensorList& t) {
            return F::cross_entropy(t[0], yc, {.reduction = Reduction::sum, .ignore_index = 2});
        },
        {x});
    check_close(g[0], {4, 5}, kGradCeIgn2Sum);
}

TEST_CASE("cross_entropy with all targets ignored gives NaN for mean, 0 for sum", "[nn][loss]") {
    const Tensor x = Logits();
    const Tensor y = i64({-100, -100, -100, -100}, {4});
    CHECK(std::isnan(F::cross_entropy(x, y).item<double>()));
    CHECK(F::cross_entropy(x, y, {.reduction = Reduction::sum}).item<double>() == 0.0);
}

TEST_CASE("cross_entropy with class probabilities matches PyTorch", "[nn][loss]") {
    const Tensor x = Logits(), p = f64(kProbs, {4, 5}), w = f64(kClassW, {5});
    check_reductions(
        "probabilities", [&](Reduction r) { return F::cross_entropy(x, p, {.reduction = r}); }, {4},
        kCePNone, kCePMean, kCePSum);
    check_reductions(
        "probabilities, weight, label_smoothing 0.15",
        [&](Reduction r) {
            return F::cross_entropy(x, p, {.reduction = r, .weight = w, .label_smoothing = 0.15});
        },
        {4}, kCePWLsNone, kCePWLsMean, kCePWLsSum);
    auto g = grads_of([&](const TensorList& t) { return F::cross_entropy(t[0], p); }, {x});
    check_close(g[0], {4, 5}, kGradCeP);
    g = grads_of(
        [&](const TensorList& t) {
            return F::cross_entropy(t[0], p, {.weight = w, .label_smoothing = 0.15});
        },
        {x});
    check_close(g[0], {4, 5}, kGradCePWLs);
    // One-hot probabilities give the same loss as the indices.
    const Tensor onehot = f64({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0}, {4, 5});
    check_close(F::cross_entropy(x, onehot), {}, kCeMean);
}

TEST_CASE("cross_entropy over [N, C, d] and for one sample [C]", "[nn][loss]") {
    const Tensor x = Logits3(), y = i64(kY3, {2, 4}), w = f64(kClassW3, {3});
    check_reductions(
        "[2, 3, 4] indices", [&](Reduction r) { return F::cross_entropy(x, y, {.reduction = r}); },
        {2, 4}, kCe3None, kCe3Mean, kCe3Sum);
    check_reductions(
        "[2, 3, 4] indices, weight, label_smoothing",
        [&](Reduction r) {
            return F::cross_entropy(x, y, {.reduction = r, .weight = w, .label_smoothing = 0.1});
        },
        {2, 4}, kCe3WLsNone, kCe3WLsMean, kCe3WLsSum);
    auto g = grads_of(
        [&](const TensorList& t) {
            return F::cross_entropy(t[0], y, {.weight = w, .label_smoothing = 0.1});
        },
        {x});
    check_close(g[0], {2, 3, 4}, kGradCe3WLs);
    const Tensor p = f64(kProbs3, {2, 3, 4});
    check_reductions(
        "[2, 3, 4] probabilities",
        [&](Reduction r) { return F::cross_entropy(x, p, {.reduction = r}); }, {2, 4}, kCe3PNone,
        kCe3PMean, kCe3PSum);

    const Tensor single = Logits().select(0, 2);
    const Tensor three = scalar_tensor<std::int64_t>(3);
    check_reductions(
        "one sample",
        [&](Reduction r) { return F::cross_entropy(single, three, {.reduction = r}); }, {},
        kCeSingleNone, kCeSingleMean, kCeSingleSum);
}

TEST_CASE("cross_entropy is stable for logits of +-1000", "[nn][loss]") {
    for (Dtype d : {kFloat64, kFloat32}) {
        INFO(dtype_name(d));
        const Tensor x = f64(kBigCeLogits, {3, 3}).to(d);
        const Tensor y = i64(kBigCeY, {3});
        check_close(F::cross_entropy(x, y, {.reduction = Reduction::none}), {3}, kBigCeNone,
                    d == kFloat64 ? 1e-12 : 1e-6);
        Tensor z = leaf(x);
        F::cross_entropy(z, y, {.reduction = Reduction::sum}).backward();
        check_close(z.grad(), {3, 3}, kGradBigCe, d == kFloat64 ? 1e-12 : 1e-6);
        // Label smoothing and probability targets stay finite as well.
        CHECK(all_finite(F::cross_entropy(x, y, {.label_smoothing = 0.3})));
        const Tensor p = full({3, 3}, 1.0 / 3.0, {d});
        CHECK(all_finite(F::cross_entropy(x, p)));
    }
    // log_softmax of the same logits: exact.
    const auto ls = F::log_softmax(f64(kBigCeLogits, {3, 3}), 1).to_vector<double>();
    CHECK(ls[0] == 0.0);
    CHECK(ls[1] == -2000.0);
}

TEST_CASE("nll_loss matches PyTorch", "[nn][loss]") {
    const Tensor logp = F::log_softmax(Logits(), 1), w = f64(kClassW, {5});
    const Tensor y = i64(kY, {4}), yi = i64(kYIgnored, {4});
    check_reductions(
        "nll", [&](Reduction r) { return F::nll_loss(logp, y, {.reduction = r}); }, {4}, kNllNone,
        kNllMean, kNllSum);
    check_reductions(
        "nll weight and ignore_index",
        [&](Reduction r) { return F::nll_loss(logp, yi, {.reduction = r, .weight = w}); }, {4},
        kNllWIgnNone, kNllWIgnMean, kNllWIgnSum);
    const Tensor logp3 = F::log_softmax(Logits3(), 1);
    check_reductions(
        "nll [2, 3, 4] weight",
        [&](Reduction r) {
            return F::nll_loss(logp3, i64(kY3, {2, 4}),
                               {.reduction = r, .weight = f64(kClassW3, {3})});
        },
        {2, 4}, kNll3WNone, kNll3WMean, kNll3WSum);
    auto g =
        grads_of([&](const TensorList& t) { return F::nll_loss(t[0], yi, {.weight = w}); }, {logp});
    check_close(g[0], {4, 5}, kGradNllWIgn);
    // cross_entropy = nll_loss(log_softmax).
    check_close(F::cross_entropy(Logits(), y), {}, kNllMean);
}

TEST_CASE("kl_div matches PyTorch for every reduction and log_target", "[nn][loss]") {
    const Tensor q = F::log_softmax(Logits(), 1), p = f64(kKlTarget, {4, 5});
    const Tensor logp = log(f64(kProbs, {4, 5}));
    using KR = nn::KLDivReduction;
    check_close(F::kl_div(q, p, {.reduction = KR::none}), {4, 5}, kKlNone);
    check_close(F::kl_div(q, p, {.reduction = KR::mean}), {}, kKlMean);
    check_close(F::kl_div(q, p, {.reduction = KR::sum}), {}, kKlSum);
    check_close(F::kl_div(q, p, {.reduction = KR::batchmean}), {}, kKlBatchmean);
    check_close(F::kl_div(q, p), {}, kKlMean);  // PyTorch's default is mean
    check_close(F::kl_div(q, logp, {.reduction = KR::none, .log_target = true}), {4, 5},
                kKlLogNone);
    check_close(F::kl_div(q, logp, {.reduction = KR::mean, .log_target = true}), {}, kKlLogMean);
    check_close(F::kl_div(q, logp, {.reduction = KR::sum, .log_target = true}), {}, kKlLogSum);
    check_close(F::kl_div(q, logp, {.reduction = KR::batchmean, .log_target = true}), {},
                kKlLogBatchmean);
    // p = 0 contributes exactly 0 (0 log 0 = 0).
    CHECK(F::kl_div(q, p, {.reduction = KR::none}).to_vector<double>()[8] == 0.0);

    auto g = grads_of(
        [&](const TensorList& t) { return F::kl_div(t[0], t[1], {.reduction = KR::batchmean}); },
        {q, p});
    check_close(g[0], {4, 5}, kGradKlInput);
    // d/dp at p = 0 is -inf in theory and NaN in PyTorch; xgrad gives the finite -input / 4 of
    // the 0-branch (documented). Every other element matches.
    std::vector<double> want = kGradKlTarget;
    want[8] = -q.to_vector<double>()[8] / 4.0;
    check_close(g[1], {4, 5}, want);
    g = grads_of(
        [&](const TensorList& t) {
            return F::kl_div(t[0], t[1], {.reduction = KR::sum, .log_target = true});
        },
        {q, logp});
    check_close(g[0], {4, 5}, kGradKlLogInput);
    check_close(g[1], {4, 5}, kGradKlLogTarget);
}

// ---- embedding and ranking costs -----------------------------------------------------------

TEST_CASE("cosine_embedding, margin_ranking and hinge_embedding match PyTorch", "[nn][loss]") {
    const Tensor a = A(), b = B(), y = i64(kCosY, {3});
    check_reductions(
        "cosine_embedding",
        [&](Reduction r) { return F::cosine_embedding_loss(a, b, y, {.reduction = r}); }, {3},
        kCosNone, kCosMean, kCosSum);
    check_reductions(
        "cosine_embedding margin 0.2",
        [&](Reduction r) {
            return F::cosine_embedding_loss(a, b, y, {.reduction = r, .margin = 0.2});
        },
        {3}, kCosM02None, kCosM02Mean, kCosM02Sum);
    // y as float64 gives the same.
    check_close(F::cosine_embedding_loss(a, b, y.to(kFloat64), {.margin = 0.2}), {}, kCosM02Mean);
    auto g = grads_of(
        [&](const TensorList& t) {
            return F::cosine_embedding_loss(t[0], t[1], y, {.margin = 0.2});
        },
        {a, b});
    check_close(g[0], {3, 4}, kGradCosX1);
    check_close(g[1], {3, 4}, kGradCosX2);
    check_close(F::cosine_embedding_loss(a.select(0, 0), b.select(0, 0),
                                         scalar_tensor<std::int64_t>(-1), {.margin = -0.5}),
                {}, kCosSingle);

    const Tensor r1 = f64(kRank1, {6}), r2 = f64(kRank2, {6}), ry = f64(kRankY, {6});
    check_reductions(
        "margin_ranking",
        [&](Reduction r) { return F::margin_ranking_loss(r1, r2, ry, {.reduction = r}); }, {6},
        kRankNone, kRankMean, kRankSum);
    check_reductions(
        "margin_ranking margin 0.5",
        [&](Reduction r) {
            return F::margin_ranking_loss(r1, r2, ry, {.reduction = r, .margin = 0.5});
        },
        {6}, kRankM05None, kRankM05Mean, kRankM05Sum);
    check_close(F::margin_ranking_loss(r1, r2, ry.to(kInt64), {.margin = 0.5}), {}, kRankM05Mean);
    g = grads_of(
        [&](const TensorList& t) {
            return F::margin_ranking_loss(t[0], t[1], ry, {.margin = 0.5});
        },
        {r1, r2});
    check_close(g[0], {6}, kGradRankX1);
    check_close(g[1], {6}, kGradRankX2);

    const Tensor hx = f64(kHingeX, {6});
    check_reductions(
        "hinge_embedding",
        [&](Reduction r) { return F::hinge_embedding_loss(hx, ry, {.reduction = r}); }, {6},
        kHingeNone, kHingeMean, kHingeSum);
    check_reductions(
        "hinge_embedding margin 0.5",
        [&](Reduction r) {
            return F::hinge_embedding_loss(hx, ry.to(kInt64), {.reduction = r, .margin = 0.5});
        },
        {6}, kHingeM05None, kHingeM05Mean, kHingeM05Sum);
    g = grads_of([&](const TensorList& t) { return F::hinge_embedding_loss(t[0], ry); }, {hx});
    check_close(g[0], {6}, kGradHinge);
}

// ---- gradcheck -----------------------------------------------------------------------------

TEST_CASE("every cost passes gradcheck in float64", "[nn][loss]") {
    Generator gen(11);
    const Tensor a = leaf(A()), b = leaf(B());
    const Tensor t = f64(kBceT, {3, 4}), w = f64(kBceW, {4}), pw = f64(kBcePosW, {4});
    const Tensor logits = leaf(Logits()), logits3 = leaf(Logits3());
    const Tensor cw = f64(kClassW, {5}), cw3 = f64(kClassW3, {3});
    const Tensor yi = i64(kYIgnored, {4}), y3 = i64(kY3, {2, 4});
    const Tensor probs = leaf(f64(kProbs, {4, 5}));
    for (Reduction r : kReductions) {
        INFO("reduction " << nn::functional::reduction_name(r));
        expect_gradcheck(
            "mse", [r](const TensorList& x) { return F::mse_loss(x[0], x[1], {.reduction = r}); },
            {a, b});
        expect_gradcheck(
            "l1", [r](const TensorList& x) { return F::l1_loss(x[0], x[1], {.reduction = r}); },
            {a, b});
        expect_gradcheck("smooth_l1",
                         [r](const TensorList& x) {
                             return F::smooth_l1_loss(x[0], x[1], {.reduction = r, .beta = 0.5});
                         },
                         {a, b});
        expect_gradcheck("huber",
                         [r](const TensorList& x) {
                             return F::huber_loss(x[0], x[1], {.reduction = r, .delta = 0.7});
                         },
                         {a, b});
        expect_gradcheck("bce",
                         [&, r](const TensorList& x) {
                             return F::binary_cross_entropy(sigmoid(x[0]), x[1],
                                                            {.reduction = r, .weight = w});
                         },
                         {a, leaf(t)});
        expect_gradcheck("bce_with_logits",
                         [&, r](const TensorList& x) {
                             return F::binary_cross_entropy_with_logits(
                                 x[0], x[1], {.reduction = r, .weight = w, .pos_weight = x[2]});
                         },
                         {a, leaf(t), leaf(pw)});
        expect_gradcheck("cross_entropy indices",
                         [&, r](const TensorList& x) {
                             return F::cross_entropy(
                                 x[0], yi, {.reduction = r, .weight = cw, .label_smoothing = 0.2});
                         },
                         {logits});
        expect_gradcheck("cross_entropy probabilities",
                         [&, r](const TensorList& x) {
                             return F::cross_entropy(
                                 x[0], x[1],
                                 {.reduction = r, .weight = cw, .label_smoothing = 0.1});
                         },
                         {logits, probs});
        expect_gradcheck("cross_entropy [N, C, d]",
                         [&, r](const TensorList& x) {
                             return F::cross_entropy(x[0], y3, {.reduction = r, .weight = x[1]});
                         },
                         {logits3, leaf(cw3)});
        expect_gradcheck("nll_loss",
                         [&, r](const TensorList& x) {
                             return F::nll_loss(x[0], yi, {.reduction = r, .weight = cw});
                         },
                         {logits});
        expect_gradcheck("cosine_embedding",
                         [&, r](const TensorList& x) {
                             return F::cosine_embedding_loss(x[0], x[1], i64(kCosY, {3}),
                                                             {.reduction = r, .margin = 0.2});
                         },
                         {a, b});
        expect_gradcheck("margin_ranking",
                         [&, r](const TensorList& x) {
                             return F::margin_ranking_loss(x[0], x[1], f64(kRankY, {6}),
                                                           {.reduction = r, .margin = 0.5});
                         },
                         {leaf(f64(kRank1, {6})), leaf(f64(kRank2, {6}) + 0.01)});
        expect_gradcheck("hinge_embedding",
                         [&, r](const TensorList& x) {
                             return F::hinge_embedding_loss(x[0], f64(kRankY, {6}),
                                                            {.reduction = r});
                         },
                         {leaf(f64(kHingeX, {6}))});
    }
    using KR = nn::KLDivReduction;
    for (KR r : {KR::none, KR::mean, KR::sum, KR::batchmean}) {
        INFO("kl_div reduction " << nn::functional::reduction_name(r));
        expect_gradcheck(
            "kl_div", [r](const TensorList& x) { return F::kl_div(x[0], x[1], {.reduction = r}); },
            {leaf(F::log_softmax(Logits(), 1)), probs});
        expect_gradcheck("kl_div log_target",
                         [r](const TensorList& x) {
                             return F::kl_div(x[0], x[1], {.reduction = r, .log_target = true});
                         },
                         {leaf(F::log_softmax(Logits(), 1)), leaf(log(f64(kProbs, {4, 5})))});
    }
}

TEST_CASE("costs have second derivatives (gradgradcheck)", "[nn][loss]") {
    const Tensor a = leaf(A()), b = leaf(B());
    const Tensor logits = leaf(Logits());
    expect_gradgradcheck("mse", [](const TensorList& x) { return F::mse_loss(x[0], x[1]); },
                         {a, b});
    expect_gradgradcheck("cross_entropy indices",
                         [](const TensorList& x) {
                             return F::cross_entropy(
                                 x[0], i64(kYIgnored, {4}),
                                 {.weight = f64(kClassW, {5}), .label_smoothing = 0.2});
                         },
                         {logits});
    expect_gradgradcheck("cross_entropy probabilities",
                         [](const TensorList& x) { return F::cross_entropy(x[0], x[1]); },
                         {logits, leaf(f64(kProbs, {4, 5}))});
    expect_gradgradcheck("bce_with_logits",
                         [](const TensorList& x) {
                             return F::binary_cross_entropy_with_logits(
                                 x[0], f64(kBceT, {3, 4}), {.pos_weight = f64(kBcePosW, {4})});
                         },
                         {a});
    expect_gradgradcheck("smooth_l1",
                         [](const TensorList& x) { return F::smooth_l1_loss(x[0], x[1]); }, {a, b});
    expect_gradgradcheck("kl_div", [](const TensorList& x) { return F::kl_div(x[0], x[1]); },
                         {leaf(F::log_softmax(Logits(), 1)), leaf(f64(kProbs, {4, 5}))});
}

// ---- modules -------------------------------------------------------------------------------

TEST_CASE("loss modules hold their options and match the functions", "[nn][loss]") {
    const Tensor a = A(), b = B();
    const Tensor x = Logits(), yi = i64(kYIgnored, {4}), cw = f64(kClassW, {5});
    check_close(nn::MSELoss()(a, b), {}, kMseMean);
    check_close(nn::MSELoss({.reduction = Reduction::sum})(a, b), {}, kMseSum);
    check_close(nn::L1Loss({.reduction = Reduction::none})(a, b), {3, 4}, kL1None);
    check_close(nn::SmoothL1Loss({.beta = 0.5})(a, b), {}, kSmoothL1B05Mean);
    check_close(nn::HuberLoss({.delta = 0.7})(a, b), {}, kHuberD07Mean);
    const Tensor t = f64(kBceT, {3, 4});
    check_close(nn::BCELoss({.weight = f64(kBceW, {4})})(sigmoid(a), t), {}, kBceWeightedMean);
    check_close(
        nn::BCEWithLogitsLoss({.weight = f64(kBceW, {4}), .pos_weight = f64(kBcePosW, {4})})(a, t),
        {}, kBceLogitsPosWMean);
    check_close(nn::CrossEntropyLoss({.weight = cw, .label_smoothing = 0.2})(x, yi), {},
                kCeWIgnLsMean);
    check_close(nn::CrossEntropyLoss({.reduction = Reduction::sum, .ignore_index = 2})(
                    x, i64(kYCustom, {4})),
                {}, kCeIgn2Sum);
    check_close(nn::NLLLoss({.weight = cw})(F::log_softmax(x, 1), yi), {}, kNllWIgnMean);
    check_close(nn::KLDivLoss({.reduction = nn::KLDivReduction::batchmean})(F::log_softmax(x, 1),
                                                                            f64(kKlTarget, {4, 5})),
                {}, kKlBatchmean);
    check_close(nn::CosineEmbeddingLoss({.margin = 0.2})(a, b, i64(kCosY, {3})), {}, kCosM02Mean);
    check_close(nn::MarginRankingLoss({.margin = 0.5})(f64(kRank1, {6}), f64(kRank2, {6}),
                                                       f64(kRankY, {6})),
                {}, kRankM05Mean);
    check_close(nn::HingeEmbeddingLoss({.margin = 0.5})(f64(kHingeX, {6}), f64(kRankY, {6})), {},
                kHingeM05Mean);

    // nn::cross_entropy etc. are the functions themselves.
    check_close(nn::cross_entropy(x, i64(kY, {4})), {}, kCeMean);
    check_close(nn::mse_loss(a, b), {}, kMseMean);
    check_close(nn::binary_cross_entropy_with_logits(a, t), {}, kBceLogitsMean);
    nn::CrossEntropyOptions opts;  // C++17 style: set fields by name
    opts.label_smoothing = 0.1;
    check_close(nn::cross_entropy(x, i64(kY, {4}), opts), {}, kCeLsMean);

    // A loss is not a one-input layer.
    nn::MSELoss mse;
    nn::Module& as_module = mse;
    CHECK_THROWS_AS(as_module.forward(a), ValueError);
    CHECK_THROWS_WITH(as_module.forward(a), Catch::Contains("xgrad::nn::MSELoss"));
}

TEST_CASE("loss modules keep class weights as buffers that follow to(dtype)", "[nn][loss]") {
    nn::CrossEntropyLoss ce({.weight = f64(kClassW, {5}).to(kFloat32)});
    CHECK(ce.num_parameters() == 0);
    auto sd = ce.state_dict();
    REQUIRE(sd.count("weight") == 1);
    CHECK(sd.at("weight").shape() == Shape{5});
    CHECK(nn::CrossEntropyLoss().state_dict().empty());
    nn::BCEWithLogitsLoss bce({.pos_weight = f64(kBcePosW, {4}).to(kFloat32)});
    CHECK(bce.state_dict().count("pos_weight") == 1);
    CHECK(bce.state_dict().count("weight") == 0);

    // float32 weight with float64 logits is a dtype error until the module is converted.
    const Tensor x = Logits(), yi = i64(kYIgnored, {4});
    CHECK_THROWS_AS(ce(x, yi), DtypeError);
    ce.to(kFloat64);
    CHECK(ce.options.weight.dtype() == kFloat64);
    check_close(ce(x, yi), {}, kCeWIgnMean, 1e-7);
    expect_gradcheck("CrossEntropyLoss module in float64",
                     [&](const TensorList& in) { return ce(in[0], yi); }, {leaf(x)});
    bce.to(kFloat64);
    check_close(bce(A(), f64(kBceT, {3, 4})), {}, kBceLogitsPosMean, 1e-7);
    expect_gradcheck("BCEWithLogitsLoss module in float64",
                     [&](const TensorList& in) {
                         return bce(in[0], f64(kBceT, {3, 4}));
                     },
                     {leaf(A())});
}

TEST_CASE("loss modules print their options", "[nn][loss]") {
    CHECK(printed(nn::MSELoss()) == "MSELoss(reduction=mean)\nparameters: 0");
    CHECK(nn::L1Loss({.reduction = Reduction::sum}).extra_repr() == "reduction=sum");
    CHECK(nn::SmoothL1Loss({.beta = 0.5}).extra_repr() == "reduction=mean, beta=0.5");
    CHECK(nn::HuberLoss().extra_repr() == "reduction=mean, delta=1.0");
    CHECK(nn::BCELoss({.reduction = Reduction::none}).extra_repr() == "reduction=none");
    CHECK(nn::BCEWithLogitsLoss().extra_repr() == "reduction=mean");
    CHECK(printed(nn::CrossEntropyLoss({.label_smoothing = 0.1})) ==
          "CrossEntropyLoss(reduction=mean, ignore_index=-100, label_smoothing=0.1)\n"
          "parameters: 0");
    CHECK(nn::NLLLoss({.ignore_index = 3}).extra_repr() == "reduction=mean, ignore_index=3");
    CHECK(nn::KLDivLoss({.reduction = nn::KLDivReduction::batchmean, .log_target = true})
              .extra_repr() == "reduction=batchmean, log_target=true");
    CHECK(nn::CosineEmbeddingLoss().extra_repr() == "reduction=mean, margin=0.0");
    CHECK(nn::MarginRankingLoss({.margin = 0.5}).extra_repr() == "reduction=mean, margin=0.5");
    CHECK(nn::HingeEmbeddingLoss().extra_repr() == "reduction=mean, margin=1.0");
}

TEST_CASE("a classifier trains with nn::cross_entropy", "[nn][loss]") {
    // Three separable clusters; a linear layer with cross entropy and plain gradient steps.
    manual_seed(5);
    Generator g(5);
    const Tensor centers = f64({3, 0, -3, 3, -3, -3}, {3, 2}).to(kFloat32);
    const Tensor y = i64({0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}, {12});
    const Tensor x = centers.index_select(0, y) + randn({12, 2}, g) * 0.3f;
    nn::Linear model(2, 3);
    const double first = nn::cross_entropy(model(x), y).item<double>();
    double last = first;
    for (int step = 0; step < 100; ++step) {
        Tensor loss = nn::cross_entropy(model(x), y, {.label_smoothing = 0.05});
        model.zero_grad();
        loss.backward();
        NoGradGuard no_grad;
        for (auto& p : model.parameters()) p.copy_(p - p.grad() * 0.5);
        last = loss.item<double>();
    }
    CHECK(last < 0.35 * first);
    CHECK(argmax(model(x), 1).to_vector<std::int64_t>() == y.to_vector<std::int64_t>());
}

// ---- errors --------------------------------------------------------------------------------

TEST_CASE("elementwise cost errors name the function and the shapes or values", "[nn][loss]") {
    const Tensor a = A(), b = B();
    const Tensor row = f64({1, 2, 3, 4}, {4});
    const Tensor ints = tensor<std::int64_t>({1, 2, 3, 4}, {1, 4});
    using Fn = std::function<Tensor(const Tensor&, const Tensor&)>;
    const std::vector<std::pair<const char*, Fn>> fns = {
        {"mse_loss", [](const Tensor& p, const Tensor& q) { return F::mse_loss(p, q); }},
        {"l1_loss", [](const Tensor& p, const Tensor& q) { return F::l1_loss(p, q); }},
        {"smooth_l1_loss",
         [](const Tensor& p, const Tensor& q) { return F::smooth_l1_loss(p, q); }},
        {"huber_loss", [](const Tensor& p, const Tensor& q) { return F::huber_loss(p, q); }},
        {"binary_cross_entropy",
         [](const Tensor& p, const Tensor& q) { return F::binary_cross_entropy(p, q); }},
        {"binary_cross_entropy_with_logits",
         [](const Tensor& p, const Tensor& q) {
             return F::binary_cross_entropy_with_logits(p, q);
         }},
        {"kl_div", [](const Tensor& p, const Tensor& q) { return F::kl_div(p, q); }},
    };
    const Tensor p = sigmoid(a);
    for (const auto& [name, f] : fns) {
        INFO(name);
        const std::string prefix = std::string("xgrad::nn::") + name + ":";
        // Mismatched shapes: no silent broadcasting of [3, 4] against [4].
        CHECK_THROWS_AS(f(p, row), ShapeError);
        CHECK_THROWS_WITH(f(p, row), Catch::Contains(prefix) && Catch::Contains("[3, 4]") &&
                                         Catch::Contains("[4]"));
        CHECK_THROWS_AS(f(p, p.reshape({4, 3})), ShapeError);
        // An int target where values are needed.
        CHECK_THROWS_AS(f(p.narrow(0, 0, 1), ints), DtypeError);
        CHECK_THROWS_WITH(f(p.narrow(0, 0, 1), ints),
                          Catch::Contains(prefix) && Catch::Contains("int64"));
        // An int input, mixed float dtypes, undefined tensors.
        CHECK_THROWS_AS(f(ints, ints.to(kFloat64)), DtypeError);
        CHECK_THROWS_AS(f(p, b.to(kFloat32)), DtypeError);
        CHECK_THROWS_WITH(f(p, b.to(kFloat32)),
                          Catch::Contains(prefix) && Catch::Contains("float32"));
        CHECK_THROWS_AS(f(Tensor(), p), ValueError);
        CHECK_THROWS_AS(f(p, Tensor()), ValueError);
    }
    CHECK_THROWS_AS(F::smooth_l1_loss(a, b, {.beta = -1.0}), ValueError);
    CHECK_THROWS_WITH(F::smooth_l1_loss(a, b, {.beta = -1.0}),
                      Catch::Contains("xgrad::nn::smooth_l1_loss") && Catch::Contains("beta"));
    CHECK_THROWS_AS(F::huber_loss(a, b, {.delta = 0.0}), ValueError);
    CHECK_THROWS_WITH(F::huber_loss(a, b, {.delta = 0.0}),
                      Catch::Contains("xgrad::nn::huber_loss") && Catch::Contains("delta"));
    CHECK_THROWS_AS(nn::SmoothL1Loss({.beta = -0.5}), ValueError);
    CHECK_THROWS_AS(nn::HuberLoss({.delta = -1.0}), ValueError);
    CHECK_THROWS_WITH(nn::HuberLoss({.delta = -1.0}), Catch::Contains("xgrad::nn::HuberLoss"));

    // bce: probabilities outside [0, 1] (logits by mistake), weights that do not broadcast.
    CHECK_THROWS_AS(F::binary_cross_entropy(a, p), ValueError);
    CHECK_THROWS_WITH(F::binary_cross_entropy(a, p),
                      Catch::Contains("xgrad::nn::binary_cross_entropy") &&
                          Catch::Contains("[0, 1]") && Catch::Contains("with_logits"));
    CHECK_THROWS_AS(F::binary_cross_entropy(p, p, {.weight = f64({1, 2, 3}, {3})}), ShapeError);
    CHECK_THROWS_WITH(F::binary_cross_entropy(p, p, {.weight = f64({1, 2, 3}, {3})}),
                      Catch::Contains("xgrad::nn::binary_cross_entropy") &&
                          Catch::Contains("weight of shape [3]"));
    CHECK_THROWS_AS(F::binary_cross_entropy(p, p, {.weight = f64({1, 2, 3, 4}, {4}).to(kFloat32)}),
                    DtypeError);
    CHECK_THROWS_AS(F::binary_cross_entropy_with_logits(a, p, {.pos_weight = f64({1, 2}, {2})}),
                    ShapeError);
    CHECK_THROWS_WITH(F::binary_cross_entropy_with_logits(a, p, {.pos_weight = f64({1, 2}, {2})}),
                      Catch::Contains("xgrad::nn::binary_cross_entropy_with_logits") &&
                          Catch::Contains("pos_weight"));
    CHECK_THROWS_AS(F::binary_cross_entropy_with_logits(a, p, {.weight = f64({1}, {1, 1, 1})}),
                    ShapeError);
}

TEST_CASE("cross_entropy and nll_loss errors name the function and the values", "[nn][loss]") {
    const Tensor x = Logits();
    const std::string ce = "xgrad::nn::cross_entropy:";
    // A class index outside [0, C).
    CHECK_THROWS_AS(F::cross_entropy(x, i64({1, 5, 0, 2}, {4})), IndexError);
    CHECK_THROWS_WITH(F::cross_entropy(x, i64({1, 5, 0, 2}, {4})),
                      Catch::Contains(ce) && Catch::Contains("target 5") &&
                          Catch::Contains("5 classes") && Catch::Contains("position 1"));
    CHECK_THROWS_AS(F::cross_entropy(x, i64({1, -1, 0, 2}, {4})), IndexError);
    CHECK_THROWS_WITH(F::cross_entropy(x, i64({1, -1, 0, 2}, {4})), Catch::Contains("target -1"));
    // -100 is fine by default, but not when another ignore_index is set.
    CHECK_THROWS_AS(F::cross_entropy(x, i64(kYIgnored, {4}), {.ignore_index = 2}), IndexError);
    CHECK_THROWS_AS(F::nll_loss(x, i64({0, 0, 7, 0}, {4})), IndexError);
    CHECK_THROWS_WITH(F::nll_loss(x, i64({0, 0, 7, 0}, {4})),
                      Catch::Contains("xgrad::nn::nll_loss:") && Catch::Contains("target 7"));

    // A float target where indices are needed, an int target where probabilities are needed.
    CHECK_THROWS_AS(F::cross_entropy(x, f64({1, 0, 4, 2}, {4})), DtypeError);
    CHECK_THROWS_WITH(F::cross_entropy(x, f64({1, 0, 4, 2}, {4})),
                      Catch::Contains(ce) && Catch::Contains("int64 class indices") &&
                          Catch::Contains("float64 [4]"));
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({4, 5}, {kInt64})), DtypeError);
    CHECK_THROWS_WITH(F::cross_entropy(x, zeros({4, 5}, {kInt64})),
                      Catch::Contains(ce) && Catch::Contains("must be floating"));
    CHECK_THROWS_AS(F::nll_loss(x, f64(kProbs, {4, 5})), DtypeError);
    CHECK_THROWS_AS(F::cross_entropy(x, f64(kProbs, {4, 5}).to(kFloat32)), DtypeError);
    CHECK_THROWS_AS(F::cross_entropy(x.to(kInt64), i64(kY, {4})), DtypeError);

    // Mismatched shapes.
    CHECK_THROWS_AS(F::cross_entropy(x, i64({1, 0, 4}, {3})), ShapeError);
    CHECK_THROWS_WITH(F::cross_entropy(x, i64({1, 0, 4}, {3})),
                      Catch::Contains(ce) && Catch::Contains("[3]") && Catch::Contains("[4, 5]"));
    CHECK_THROWS_AS(F::cross_entropy(x, zeros({4, 4}, {kFloat64})), ShapeError);
    CHECK_THROWS_AS(F::cross_entropy(Logits3(), i64(kY, {4})), ShapeError);
    CHECK_THROWS_WITH(F::cross_entropy(Logits3(), i64(kY, {4})),
                      Catch::Contains("[2, 4]") && Catch::Contains("[2, 3, 4]"));
    CHECK_THROWS_AS(F::cross_entropy(scalar_tensor(1.0), scalar_tensor<std::int64_t>(0)),
                    ShapeError);

    // Wrong weight size / dtype.
    CHECK_THROWS_AS(F::cross_entropy(x, i64(kY, {4}), {.weight = f64({1, 2, 3}, {3})}), ShapeError);
    CHECK_THROWS_WITH(
        F::cross_entropy(x, i64(kY, {4}), {.weight = f64({1, 2, 3}, {3})}),
        Catch::Contains(ce) && Catch::Contains("weight") && Catch::Contains("got shape [3]"));
    CHECK_THROWS_AS(F::nll_loss(x, i64(kY, {4}), {.weight = ones({5, 1}, {kFloat64})}), ShapeError);
    CHECK_THROWS_AS(F::cross_entropy(x, i64(kY, {4}), {.weight = ones({5})}), DtypeError);

    // Option values.
    CHECK_THROWS_AS(F::cross_entropy(x, i64(kY, {4}), {.label_smoothing = 1.5}), ValueError);
    CHECK_THROWS_WITH(F::cross_entropy(x, i64(kY, {4}), {.label_smoothing = -0.1}),
                      Catch::Contains(ce) && Catch::Contains("label_smoothing"));
    CHECK_THROWS_AS(nn::CrossEntropyLoss({.label_smoothing = 2.0}), ValueError);
    CHECK_THROWS_AS(F::cross_entropy(x, f64(kProbs, {4, 5}), {.ignore_index = 0}), ValueError);
    CHECK_THROWS_WITH(F::cross_entropy(x, f64(kProbs, {4, 5}), {.ignore_index = 0}),
                      Catch::Contains("ignore_index"));
    CHECK_THROWS_AS(F::cross_entropy(x, Tensor()), ValueError);
    // A failed call leaves nothing behind: the next good call works.
    check_close(F::cross_entropy(x, i64(kY, {4})), {}, kCeMean);
}

TEST_CASE("embedding and ranking cost errors", "[nn][loss]") {
    const Tensor a = A(), b = B();
    const std::string cos = "xgrad::nn::cosine_embedding_loss:";
    CHECK_THROWS_AS(F::cosine_embedding_loss(a, b, i64({1, 0, -1}, {3})), ValueError);
    CHECK_THROWS_WITH(
        F::cosine_embedding_loss(a, b, i64({1, 0, -1}, {3})),
        Catch::Contains(cos) && Catch::Contains("1 or -1") && Catch::Contains("got 0"));
    CHECK_THROWS_AS(F::cosine_embedding_loss(a, b, i64({1, -1}, {2})), ShapeError);
    CHECK_THROWS_WITH(F::cosine_embedding_loss(a, b, i64({1, -1}, {2})),
                      Catch::Contains(cos) && Catch::Contains("[2]") && Catch::Contains("[3]"));
    CHECK_THROWS_AS(F::cosine_embedding_loss(a, b.narrow(1, 0, 3), i64({1, 1, 1}, {3})),
                    ShapeError);
    CHECK_THROWS_AS(
        F::cosine_embedding_loss(a.reshape({3, 2, 2}), b.reshape({3, 2, 2}), i64({1, 1, 1}, {3})),
        ShapeError);
    CHECK_THROWS_AS(F::cosine_embedding_loss(a, b, f64({1, 1, 1}, {3}).to(kFloat32)), DtypeError);
    CHECK_THROWS_AS(F::cosine_embedding_loss(a, b.to(kFloat32), i64({1, 1, 1}, {3})), DtypeError);

    const Tensor r = f64(kRank1, {6});
    CHECK_THROWS_AS(F::margin_ranking_loss(r, r, f64({1, 1, 1}, {3})), ShapeError);
    CHECK_THROWS_WITH(F::margin_ranking_loss(r, r, f64({1, 1, 1}, {3})),
                      Catch::Contains("xgrad::nn::margin_ranking_loss:") &&
                          Catch::Contains("[6]") && Catch::Contains("[3]"));
    CHECK_THROWS_AS(F::margin_ranking_loss(r, r.narrow(0, 0, 5), f64(kRankY, {6})), ShapeError);
    CHECK_THROWS_AS(F::margin_ranking_loss(r, r, f64({1, 1, 1, 1, 1, 0.5}, {6})), ValueError);
    CHECK_THROWS_WITH(F::margin_ranking_loss(r, r, f64({1, 1, 1, 1, 1, 0.5}, {6})),
                      Catch::Contains("got 0.5 at position 5"));
    CHECK_THROWS_AS(F::hinge_embedding_loss(r, f64(kRankY, {6}).reshape({2, 3})), ShapeError);
    CHECK_THROWS_WITH(F::hinge_embedding_loss(r, f64(kRankY, {6}).reshape({2, 3})),
                      Catch::Contains("xgrad::nn::hinge_embedding_loss:"));
    CHECK_THROWS_AS(F::hinge_embedding_loss(r, i64({1, 1, 2, 1, 1, 1}, {6})), ValueError);
    CHECK_THROWS_AS(F::hinge_embedding_loss(r.to(kInt64), i64({1, 1, 1, 1, 1, 1}, {6})),
                    DtypeError);
}

TEST_CASE("costs of an empty batch follow PyTorch (mean NaN, sum 0)", "[nn][loss]") {
    const Tensor x = zeros({0, 5}, {kFloat64}), y = zeros({0}, {kInt64});
    CHECK(std::isnan(F::cross_entropy(x, y).item<double>()));
    CHECK(F::cross_entropy(x, y, {.reduction = Reduction::sum}).item<double>() == 0.0);
    CHECK(F::cross_entropy(x, y, {.reduction = Reduction::none}).shape() == Shape{0});
    CHECK(std::isnan(F::cross_entropy(x, x).item<double>()));
    const Tensor e = zeros({0, 3}, {kFloat64});
    CHECK(std::isnan(F::mse_loss(e, e).item<double>()));
    CHECK(F::l1_loss(e, e, {.reduction = Reduction::sum}).item<double>() == 0.0);
}
