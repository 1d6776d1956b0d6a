// The library's threading, with results asserted: the worker pool (set_num_threads, used from
// several user threads at once), the DataLoader's prefetch thread (early breaks, errors), the
// per-thread grad mode, and independent graphs trained on two threads at once. These are the
// tests scripts/tsan.sh runs under ThreadSanitizer (tag [threads], CTest label `tsan`).
//
// Catch2's assertions are not thread-safe: the threads only record what they saw, and the test's
// own thread checks it after joining them.
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <xgrad/data.hpp>
#include <xgrad/xgrad.hpp>

#include "test_helpers.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

using test::ThreadsGuard;

// Aborts the process (with a message) if the scope is not left within `limit`: a join that hangs
// fails the test instead of stalling the run until CTest's timeout.
class Watchdog {
  public:
    Watchdog(const char* what, std::chrono::seconds limit)
        : thread_([this, what, limit] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (!cv_.wait_for(lock, limit, [&] { return done_; })) {
                  std::fprintf(stderr, "test_threads: '%s' did not finish within %lld s (hang)\n",
                               what, static_cast<long long>(limit.count()));
                  std::abort();
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;  // last: starts after the members it uses
};

// Runs every function on a thread of its own, released at the same moment; joins them all and
// rethrows the first exception one of them threw.
void run_concurrently(const std::vector<std::function<void()>>& fns) {
    std::latch start(static_cast<std::ptrdiff_t>(fns.size()));
    std::vector<std::exception_ptr> errors(fns.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < fns.size(); ++i)
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            try {
                fns[i]();
            } catch (...) {
                errors[i] = std::current_exception();
            }
        });
    for (auto& t : threads) t.join();
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

// Same shape and the same values, element for element (NaN equal to NaN).
bool identical(const Tensor& a, const Tensor& b) {
    if (a.defined() != b.defined()) return false;
    if (!a.defined()) return true;
    if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
    const auto va = a.to_vector<double>(), vb = b.to_vector<double>();
    for (std::size_t i = 0; i < va.size(); ++i)
        if (!(va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i])))) return false;
    return true;
}

std::size_t count_different(const TensorList& a, const TensorList& b) {
    if (a.size() != b.size()) return a.size() + b.size();
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) n += identical(a[i], b[i]) ? 0 : 1;
    return n;
}

// ---- the worker pool ---------------------------------------------------------------------------

// Inputs big enough for every parallel path: maps and sums of several chunks (kParallelGrain =
// 2^16 elements), a product above OpenBLAS's threading threshold (2^18 multiply-adds), and a
// batch of small products that xgrad splits across its own pool.
struct PoolInputs {
    Tensor a, b, m, k, p, q;
    explicit PoolInputs(std::uint64_t seed) {
        Generator gen(seed);
        const std::int64_t n = 4 * 65536 + 4321;  // four chunks, the last one ragged
        a = randn({n}, gen);
        b = randn({n}, gen);
        m = randn({192, 160}, gen);
        k = randn({160, 176}, gen);
        p = randn({32, 48, 40}, gen);
        q = randn({32, 40, 48}, gen);
    }
};

// Forward and backward through every parallel path; the results, detached.
TensorList pool_workload(const PoolInputs& in) {
    Tensor a = in.a.clone().requires_grad_(), b = in.b.clone().requires_grad_();
    Tensor m = in.m.clone().requires_grad_(), p = in.p.clone().requires_grad_();
    Tensor prod = a * b;
    Tensor y = tanh(prod) + a;
    Tensor s = y.sum();
    Tensor mk = matmul(m, in.k);
    Tensor pq = matmul(p, in.q);
    (s + (mk * mk).mean() + tanh(pq).sum()).backward();
    return TensorList{prod.detach(), y.detach(),  s.detach(), a.grad(),   b.grad(),  mk.detach(),
                      m.grad(),      pq.detach(), p.grad(),   in.a.sum(), in.b.max()};
}

}  // namespace

TEST_CASE("worker pool: large maps, sums and matrix products are the same with 1 and 2 threads",
          "[threads]") {
    ThreadsGuard guard;
    const PoolInputs in(11);
    set_num_threads(1);
    REQUIRE(get_num_threads() == 1);
    const TensorList one = pool_workload(in);
    set_num_threads(2);
    REQUIRE(get_num_threads() == 2);
    const TensorList two = pool_workload(in);
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i);
        CHECK(identical(one[i], two[i]));
    }

    // And the 2-thread values against plain loops on this thread.
    const auto va = in.a.to_vector<float>(), vb = in.b.to_vector<float>();
    const auto vprod = two[0].to_vector<float>();
    std::size_t wrong = 0;
    double sum_a = 0, abs_a = 0;
    float max_b = -INFINITY;
    for (std::size_t i = 0; i < va.size(); ++i) {
        if (vprod[i] != va[i] * vb[i]) ++wrong;
        sum_a += va[i];
        abs_a += std::fabs(va[i]);
        max_b = std::max(max_b, vb[i]);
    }
    CHECK(wrong == 0);
    CHECK(two[9].item<double>() == Approx(sum_a).margin(1e-6 * abs_a));
    CHECK(two[10].item<float>() == max_b);
    // d/da of sum(tanh(a*b) + a) = b (1 - tanh(a*b)^2) + 1, at a few places in every chunk.
    const auto ga = two[3].to_vector<float>();
    for (std::size_t i = 0; i < va.size(); i += 9973) {
        const double t = std::tanh(double(va[i]) * vb[i]);
        CHECK(ga[i] == Approx(vb[i] * (1 - t * t) + 1).margin(1e-5));
    }
    // The threaded matrix product against a double-precision reference, at a few entries.
    const auto vm = in.m.to_vector<float>(), vk = in.k.to_vector<float>();
    const auto vmk = two[5].to_vector<float>();
    for (std::size_t r : {0, 77, 191})
        for (std::size_t c : {0, 100, 175}) {
            double ref = 0;
            for (std::size_t j = 0; j < 160; ++j) ref += double(vm[r * 160 + j]) * vk[j * 176 + c];
            CHECK(vmk[r * 176 + c] == Approx(ref).margin(1e-4));
        }
    // One product of the split batch against the same product alone.
    CHECK(identical(two[7].select(0, 29), matmul(in.p.select(0, 29), in.q.select(0, 29))));
}

TEST_CASE("small tensors made on one thread and freed on another keep their values",
          "[threads][memory]") {
    // The allocator keeps small blocks in per-thread caches: a block freed on another thread
    // joins that thread's cache, and a thread's cache is emptied when it exits.
    std::vector<Tensor> made;
    std::thread producer([&] {
        for (int i = 0; i < 200; ++i) made.push_back(full({(i % 50) + 1}, double(i)));
    });
    producer.join();  // its cache is gone; the tensors live on
    for (int i = 0; i < 200; ++i) {
        const auto v = made[i].to_vector<float>();
        REQUIRE(v.size() == std::size_t(i % 50 + 1));
        CHECK(v.front() == float(i));
        CHECK(v.back() == float(i));
    }
    std::thread consumer([&] { made.clear(); });  // freed into the consumer's cache
    consumer.join();
    // Blocks of these sizes handed out again on this thread are still usable memory.
    for (int i = 0; i < 200; ++i) {
        Tensor t = full({(i % 50) + 1}, 2.0);
        CHECK(t.sum().item<double>() == 2.0 * double(i % 50 + 1));
    }
}

TEST_CASE("worker pool: two user threads running large ops at once each get their own results",
          "[threads]") {
    ThreadsGuard guard;
    set_num_threads(2);
    const PoolInputs in0(21), in1(22);
    const TensorList expected0 = pool_workload(in0), expected1 = pool_workload(in1);
    REQUIRE(count_different(expected0, expected1) == expected0.size());  // the jobs differ

    constexpr int kRounds = 2;
    std::vector<std::size_t> wrong0, wrong1;
    run_concurrently({[&] {
                          for (int r = 0; r < kRounds; ++r)
                              wrong0.push_back(count_different(pool_workload(in0), expected0));
                      },
                      [&] {
                          for (int r = 0; r < kRounds; ++r)
                              wrong1.push_back(count_different(pool_workload(in1), expected1));
                      }});
    CHECK(wrong0 == std::vector<std::size_t>(kRounds, 0));
    CHECK(wrong1 == std::vector<std::size_t>(kRounds, 0));
    CHECK(get_num_threads() == 2);
}

// ---- DataLoader prefetch -----------------------------------------------------------------------

namespace {

// n samples: input [2] = {i, -i}, target i. get_batch may sleep (to keep the prefetch thread busy
// inside it) and counts the batches built; get() throws `fail_with` at sample `fail_at`. Records
// whether any sample was read on a thread other than the one that created the dataset.
class ThreadedDataset : public data::Dataset {
  public:
    enum class Failure { xgrad_value_error, foreign };
    struct ForeignError : std::exception {
        const char* what() const noexcept override { return "ThreadedDataset: foreign error"; }
    };

    explicit ThreadedDataset(std::int64_t n, std::int64_t fail_at = -1, int delay_us = 0,
                             Failure fail_with = Failure::xgrad_value_error)
        : n_(n),
          fail_at_(fail_at),
          delay_us_(delay_us),
          fail_with_(fail_with),
          owner_(std::this_thread::get_id()),
          state_(std::make_shared<State>()) {}

    std::int64_t size() const override { return n_; }
    data::Example get(std::int64_t i) const override {
        check_index(i, "ThreadedDataset::get");
        if (std::this_thread::get_id() != owner_) state_->read_off_owner = true;
        if (i == fail_at_) {
            if (fail_with_ == Failure::foreign) throw ForeignError();
            throw ValueError("ThreadedDataset: sample " + std::to_string(i) + " is broken");
        }
        return {tensor<float>({float(i), float(-i)}), scalar_tensor<std::int64_t>(i)};
    }
    data::Batch get_batch(const std::vector<std::int64_t>& indices) const override {
        if (delay_us_) std::this_thread::sleep_for(std::chrono::microseconds(delay_us_));
        ++state_->built;
        return Dataset::get_batch(indices);  // the default stacking, calling get()
    }

    int built() const { return state_->built; }
    bool read_off_owner() const { return state_->read_off_owner; }

  private:
    struct State {
        std::atomic<int> built{0};
        std::atomic<bool> read_off_owner{false};
    };
    std::int64_t n_, fail_at_;
    int delay_us_;
    Failure fail_with_;
    std::thread::id owner_;
    std::shared_ptr<State> state_;  // shared by the loader's copy of the dataset
};

// The sample ids of a batch (its targets), checking that the inputs agree.
std::vector<std::int64_t> batch_ids(const data::Batch& b) {
    const auto ids = b.target.to_vector<std::int64_t>();
    const auto first = b.input.select(1, 0).to_vector<float>();
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < ids.size(); ++i)
        out.push_back(float(ids[i]) == first[i] ? ids[i] : -1);
    return out;
}

}  // namespace

TEST_CASE("DataLoader prefetch: breaking out early, many times, joins the thread cleanly",
          "[threads]") {
    Watchdog dog("DataLoader early breaks", std::chrono::seconds(120));
    const ThreadedDataset ds(96);
    data::DataLoaderOptions o{.batch_size = 4, .shuffle = true, .seed = 3};
    data::DataLoader sync(ds, o);
    o.prefetch = true;
    o.prefetch_batches = 2;
    data::DataLoader pre(ds, o);

    // Round r takes r % 6 + 1 batches and breaks: the prefetch thread is stopped wherever it is
    // (waiting for room, or building). The loaders advance epochs together, so orders agree.
    int mismatched_rounds = 0;
    for (int round = 0; round < 60; ++round) {
        const std::size_t take = static_cast<std::size_t>(round % 6) + 1;
        std::vector<std::vector<std::int64_t>> want, got;
        for (auto& batch : sync) {
            want.push_back(batch_ids(batch));
            if (want.size() == take) break;
        }
        for (auto& batch : pre) {
            got.push_back(batch_ids(batch));
            if (got.size() == take) break;
        }
        if (got != want) ++mismatched_rounds;
    }
    CHECK(mismatched_rounds == 0);
    CHECK(ds.read_off_owner());  // the batches were built on the prefetch thread
    CHECK(pre.epoch() == 60);

    // Nothing is built after the breaks: every thread was stopped.
    const int built = ds.built();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(ds.built() == built);

    // A whole epoch after all that is still the synchronous loader's.
    std::vector<std::vector<std::int64_t>> want, got;
    for (auto& batch : sync) want.push_back(batch_ids(batch));
    for (auto& batch : pre) got.push_back(batch_ids(batch));
    CHECK(want.size() == 24);
    CHECK(got == want);
}

TEST_CASE("DataLoader prefetch: a loader destroyed while its thread is building does not hang",
          "[threads]") {
    Watchdog dog("DataLoader destroyed mid-build", std::chrono::seconds(120));
    const ThreadedDataset slow(64, -1, 300);  // each batch takes >= 0.3 ms to build
    int first_batches_right = 0;
    for (int round = 0; round < 30; ++round) {
        data::DataLoader loader(slow, {.batch_size = 2, .prefetch = true, .prefetch_batches = 1});
        auto it = loader.begin();
        if (batch_ids(*it) == std::vector<std::int64_t>{0, 1}) ++first_batches_right;
        if (round % 2) ++it;  // sometimes one more, so the thread is caught at another point
    }  // the iterator and then the loader go while the thread builds or waits
    CHECK(first_batches_right == 30);

    // An iterator keeps its epoch (and the dataset) alive after its loader is gone.
    data::DataLoader::Iterator it;
    {
        data::DataLoader loader(slow, {.batch_size = 16, .prefetch = true});
        it = loader.begin();
    }
    std::vector<std::int64_t> ids;
    for (; it != data::DataLoader::Iterator(); ++it)
        for (auto id : batch_ids(*it)) ids.push_back(id);
    CHECK(ids.size() == 64);
    CHECK(ids.front() == 0);
    CHECK(ids.back() == 63);
}

TEST_CASE("DataLoader prefetch: a dataset that throws reaches the loop as that error",
          "[threads]") {
    Watchdog dog("DataLoader errors", std::chrono::seconds(120));
    SECTION("an xgrad error in the middle of the epoch, for every prefetch depth") {
        for (std::int64_t depth : {1, 2, 5}) {
            const ThreadedDataset broken(40, 13);  // batch 3 (samples 12-15) fails
            data::DataLoader loader(broken,
                                    {.batch_size = 4, .prefetch = true, .prefetch_batches = depth});
            for (int epoch = 0; epoch < 5; ++epoch) {  // every epoch fails the same way
                INFO("depth " << depth << ", epoch " << epoch);
                std::vector<std::int64_t> got;
                std::string message;
                bool caught_as_value_error = false;
                try {
                    for (auto& batch : loader)
                        for (auto id : batch_ids(batch)) got.push_back(id);
                } catch (const ValueError& e) {
                    caught_as_value_error = true;
                    message = e.what();
                }
                CHECK(caught_as_value_error);
                CHECK_THAT(message, Contains("sample 13 is broken"));
                CHECK(got == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
            }
            CHECK(broken.read_off_owner());
        }  // the loader is destroyed after its failed epochs
    }
    SECTION("the error ends the epoch: the iterator is at the end afterwards") {
        const ThreadedDataset broken(40, 9);
        data::DataLoader loader(broken, {.batch_size = 4, .prefetch = true});
        auto it = loader.begin();
        ++it;
        CHECK(batch_ids(*it) == std::vector<std::int64_t>{4, 5, 6, 7});
        CHECK_THROWS_AS(++it, ValueError);
        CHECK(it == loader.end());
        CHECK_THROWS_AS(*it, IndexError);
    }
    SECTION("an error in the first batch comes out of begin()") {
        const ThreadedDataset broken(40, 2);
        data::DataLoader loader(broken, {.batch_size = 4, .prefetch = true});
        for (int epoch = 0; epoch < 10; ++epoch) CHECK_THROWS_AS(loader.begin(), ValueError);
    }
    SECTION("an error the loop never reaches is dropped with the thread") {
        const ThreadedDataset broken(40, 13);
        for (int round = 0; round < 20; ++round) {
            data::DataLoader loader(broken,
                                    {.batch_size = 4, .prefetch = true, .prefetch_batches = 5});
            int seen = 0;
            // Give the thread time to reach the broken batch before the loop leaves.
            for (auto& batch : loader) {
                CHECK(batch.input.size(0) == 4);
                std::this_thread::sleep_for(std::chrono::microseconds(200));
                if (++seen == 2) break;
            }
            CHECK(seen == 2);
        }
    }
    SECTION("an exception of a foreign type keeps its type") {
        const ThreadedDataset broken(40, 30, 0, ThreadedDataset::Failure::foreign);
        data::DataLoader loader(broken, {.batch_size = 8, .prefetch = true});
        int batches = 0;
        CHECK_THROWS_AS(
            [&] {
                for (auto& batch : loader) batches += batch.input.size(0) == 8 ? 1 : 100;
            }(),
            ThreadedDataset::ForeignError);
        CHECK(batches == 3);
    }
}

TEST_CASE("DataLoader prefetch: two loaders iterated on two threads at once", "[threads]") {
    Watchdog dog("two loaders", std::chrono::seconds(120));
    const ThreadedDataset ds0(120), ds1(90);
    auto ids_of = [](const ThreadedDataset& ds, bool prefetch, std::uint64_t seed) {
        data::DataLoader loader(
            ds, {.batch_size = 6, .shuffle = true, .seed = seed, .prefetch = prefetch});
        std::vector<std::int64_t> ids;
        for (int epoch = 0; epoch < 3; ++epoch)
            for (auto& batch : loader)
                for (auto id : batch_ids(batch)) ids.push_back(id);
        return ids;
    };
    const auto want0 = ids_of(ds0, false, 1), want1 = ids_of(ds1, false, 2);
    std::vector<std::int64_t> got0, got1;
    run_concurrently({[&] { got0 = ids_of(ds0, true, 1); }, [&] { got1 = ids_of(ds1, true, 2); }});
    CHECK(want0.size() == 360);
    CHECK(got0 == want0);
    CHECK(got1 == want1);
}

// ---- grad mode and independent graphs ----------------------------------------------------------

TEST_CASE("NoGradGuard is per thread: one thread infers while another records and differentiates",
          "[threads]") {
    Generator gen(5);
    const Tensor x = randn({64}, gen), w0 = randn({64}, gen);
    const auto vx = x.to_vector<float>(), vw = w0.to_vector<float>();
    constexpr int kRounds = 25;
    // Both threads pass the barrier once the inference thread is inside its guard, and again
    // before it leaves: the other thread records its graph in between.
    std::barrier sync(2);

    std::vector<int> inferring_mode, inferring_requires_grad, inferring_has_grad_fn;
    int inferring_mode_after = -1;
    std::vector<int> training_mode, training_requires_grad;
    std::vector<double> training_grad_error;
    run_concurrently({[&] {
                          Tensor w = w0.clone().requires_grad_();
                          for (int r = 0; r < kRounds; ++r) {
                              NoGradGuard no_grad;
                              sync.arrive_and_wait();
                              Tensor y = tanh(x * w) * w + double(r);
                              inferring_mode.push_back(GradMode::is_enabled());
                              inferring_requires_grad.push_back(y.requires_grad());
                              inferring_has_grad_fn.push_back(y.grad_fn() != nullptr);
                              sync.arrive_and_wait();
                          }
                          inferring_mode_after = GradMode::is_enabled();
                      },
                      [&] {
                          Tensor w = w0.clone().requires_grad_();
                          for (int r = 0; r < kRounds; ++r) {
                              sync.arrive_and_wait();
                              training_mode.push_back(GradMode::is_enabled());
                              Tensor y = (x * w * w).sum() * double(r + 1);
                              training_requires_grad.push_back(y.requires_grad());
                              w.zero_grad();
                              y.backward();
                              // d/dw of (r + 1) * sum(x w^2) = 2 (r + 1) x w
                              const auto g = w.grad().to_vector<float>();
                              double err = 0;
                              for (std::size_t i = 0; i < g.size(); ++i)
                                  err = std::max(err,
                                                 std::fabs(g[i] - 2.0 * (r + 1) * vx[i] * vw[i]));
                              training_grad_error.push_back(err);
                              sync.arrive_and_wait();
                          }
                      }});
    CHECK(inferring_mode == std::vector<int>(kRounds, 0));
    CHECK(inferring_requires_grad == std::vector<int>(kRounds, 0));
    CHECK(inferring_has_grad_fn == std::vector<int>(kRounds, 0));
    CHECK(inferring_mode_after == 1);  // the guard restored its own thread's mode
    CHECK(training_mode == std::vector<int>(kRounds, 1));
    CHECK(training_requires_grad == std::vector<int>(kRounds, 1));
    REQUIRE(training_grad_error.size() == kRounds);
    for (double e : training_grad_error) CHECK(e < 1e-4);
    CHECK(GradMode::is_enabled());

    SECTION("a thread started inside a guard records: the mode is not inherited") {
        NoGradGuard no_grad;
        int mode = -1, records = -1;
        Tensor grad;
        std::thread t([&] {
            mode = GradMode::is_enabled();
            Tensor w = w0.clone().requires_grad_();
            Tensor y = (w * x).sum();
            records = y.requires_grad();
            y.backward();
            grad = w.grad();
        });
        t.join();
        CHECK(!GradMode::is_enabled());
        CHECK(mode == 1);
        CHECK(records == 1);
        REQUIRE(grad.defined());
        CHECK(identical(grad, x));
    }
}

namespace {

// What one training run saw: the loss at each step, the gradients of the first step, and the
// parameters at the end.
struct TrainingRecord {
    std::vector<float> losses;
    TensorList first_grads, final_params;
};

TensorList grads_of(const std::vector<Tensor>& params) {
    TensorList out;
    for (const Tensor& p : params) out.push_back(p.grad().defined() ? p.grad().clone() : Tensor());
    return out;
}

TensorList values_of(const std::vector<Tensor>& params) {
    TensorList out;
    for (const Tensor& p : params) out.push_back(p.detach().clone());
    return out;
}

// A classifier (cross-entropy, SGD with momentum) and a regressor (MSE, Adam, plus a gradient
// taken with autograd::grad on the side): two unrelated graphs.
nn::Sequential make_classifier() {
    manual_seed(31);  // the layers initialise from the default generator: on this thread only
    return nn::Sequential(nn::Linear(16, 32), nn::ReLU(), nn::Linear(32, 4));
}

nn::Sequential make_regressor() {
    manual_seed(32);
    return nn::Sequential(nn::Linear(8, 24), nn::Tanh(), nn::Linear(24, 1));
}

constexpr int kTrainSteps = 12;

TrainingRecord train_classifier(nn::Sequential& model, const Tensor& x, const Tensor& y) {
    TrainingRecord rec;
    optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9});
    for (int step = 0; step < kTrainSteps; ++step) {
        opt.zero_grad();
        Tensor loss = nn::cross_entropy(model(x), y);
        loss.backward();
        if (step == 0) rec.first_grads = grads_of(model.parameters());
        opt.step();
        rec.losses.push_back(loss.item<float>());
    }
    rec.final_params = values_of(model.parameters());
    return rec;
}

TrainingRecord train_regressor(nn::Sequential& model, const Tensor& x, const Tensor& y) {
    TrainingRecord rec;
    optim::Adam opt(model.parameters(), {.lr = 0.01});
    for (int step = 0; step < kTrainSteps; ++step) {
        opt.zero_grad();
        Tensor pred = model(x);
        Tensor loss = nn::mse_loss(pred, y);
        // The gradient of the loss with respect to the predictions, returned, not accumulated.
        const TensorList dpred = autograd::grad({loss}, {pred}, {}, {.retain_graph = true});
        loss.backward();
        if (step == 0) {
            rec.first_grads = grads_of(model.parameters());
            rec.first_grads.push_back(dpred[0]);
        }
        opt.step();
        rec.losses.push_back(loss.item<float>());
    }
    rec.final_params = values_of(model.parameters());
    return rec;
}

std::size_t count_different(const TrainingRecord& a, const TrainingRecord& b) {
    return (a.losses == b.losses ? 0 : 1) + count_different(a.first_grads, b.first_grads) +
           count_different(a.final_params, b.final_params);
}

}  // namespace

TEST_CASE("two threads train their own models at once and get the single-threaded gradients",
          "[threads]") {
    Generator gen(41);
    const Tensor xc = randn({64, 16}, gen), yc = randint(0, 4, {64}, gen);
    const Tensor xr = randn({48, 8}, gen), yr = randn({48, 1}, gen);

    // Alone, one after the other, on this thread.
    nn::Sequential classifier = make_classifier(), regressor = make_regressor();
    const TrainingRecord want_c = train_classifier(classifier, xc, yc);
    const TrainingRecord want_r = train_regressor(regressor, xr, yr);
    REQUIRE(want_c.first_grads.size() == 4);
    REQUIRE(want_r.first_grads.size() == 5);
    CHECK(want_c.losses.back() < want_c.losses.front());  // both really train
    CHECK(want_r.losses.back() < want_r.losses.front());

    // Fresh models with the same initial weights, trained at the same time, three times over.
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        nn::Sequential c = make_classifier(), r = make_regressor();
        TrainingRecord got_c, got_r;
        run_concurrently({[&] { got_c = train_classifier(c, xc, yc); },
                          [&] { got_r = train_regressor(r, xr, yr); }});
        CHECK(count_different(got_c, want_c) == 0);
        CHECK(count_different(got_r, want_r) == 0);
    }
}

TEST_CASE("two threads backpropagating into one shared leaf never lose an update", "[threads]") {
    // Each thread's graph is its own; only the leaf w is shared. Its AccumulateGrad adds under
    // a lock, so all 2 x 2000 gradients of 3 arrive (before the lock, about half the trials
    // lost some). Float64 keeps every partial sum exact.
    constexpr int kIterations = 2000;
    for (int trial = 0; trial < 5; ++trial) {
        INFO("trial " << trial);
        Tensor w = ones({4}, {.dtype = kFloat64, .requires_grad = true});
        auto work = [&] {
            for (int i = 0; i < kIterations; ++i) (w * 3.0).sum().backward();
        };
        run_concurrently({work, work});
        CHECK(w.grad().to_vector<double>() == std::vector<double>(4, 6.0 * kIterations));
    }
}

TEST_CASE("threads sharing a parameter inside bigger graphs get the summed gradient", "[threads]") {
    // A shared weight used by two models on two threads, each also with weights of its own:
    // the shared one receives the sum of both threads' gradients, the others their own.
    Generator gen(7);
    const Tensor x1 = randn({8, 5}, gen), x2 = randn({8, 5}, gen);
    Tensor shared = randn({5, 5}, gen).requires_grad_();
    Tensor own1 = randn({5, 1}, gen).requires_grad_(), own2 = randn({5, 1}, gen).requires_grad_();
    auto loss = [&](const Tensor& x, const Tensor& own) {
        return pow(matmul(tanh(matmul(x, shared)), own), 2.0).mean();
    };
    // Alone, on this thread.
    loss(x1, own1).backward();
    loss(x2, own2).backward();
    const Tensor want_shared = shared.grad().clone(), want1 = own1.grad().clone(),
                 want2 = own2.grad().clone();
    for (int round = 0; round < 3; ++round) {
        INFO("round " << round);
        shared.zero_grad();
        own1.zero_grad();
        own2.zero_grad();
        run_concurrently({[&] { loss(x1, own1).backward(); }, [&] { loss(x2, own2).backward(); }});
        // The two contributions may arrive in either order: equal up to float rounding.
        const auto got = shared.grad().to_vector<double>(), want = want_shared.to_vector<double>();
        REQUIRE(got.size() == want.size());
        for (std::size_t i = 0; i < got.size(); ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-5));
        CHECK(identical(own1.grad(), want1));
        CHECK(identical(own2.grad(), want2));
    }
}
