// The fixed model, optimizers and scheduler that fuzz_checkpoint loads into, and that
// make_seeds saves to produce the checkpoint seed corpus (so the seeds fit the fixture).
//
//   model: Sequential(Linear(3, 2), BatchNorm1d(2))   (small, so the files are; BatchNorm adds
//          buffers, among them an int64 one)
//   sgd:   SGD in two parameter groups (the Linear; the BatchNorm), with momentum
//   adam:  Adam with AMSGrad (three state buffers per parameter), stepped by a StepLR
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <xgrad/core/creation.hpp>
#include <xgrad/core/random.hpp>
#include <xgrad/nn.hpp>
#include <xgrad/optim.hpp>

namespace xgrad_fuzz {

class CheckpointFixture {
    struct Seeded {
        explicit Seeded(std::uint64_t seed) { xgrad::manual_seed(seed); }
    };
    Seeded seeded_;

  public:
    xgrad::nn::Sequential model;
    xgrad::optim::SGD sgd;
    xgrad::optim::Adam adam;
    xgrad::optim::StepLR sched;
    xgrad::Tensor x;  // a batch of 6 samples with 3 features
    xgrad::Tensor y;  // their classes (0 or 1)

    explicit CheckpointFixture(std::uint64_t seed)
        : seeded_(seed),
          model(xgrad::nn::Linear(3, 2), xgrad::nn::BatchNorm1d(2)),
          sgd(sgd_groups(model)),
          adam(model.parameters(), adam_options()),
          sched(adam, sched_options()),
          x(xgrad::randn({6, 3})),
          y(xgrad::randint(0, 2, {6})) {}

    // One training step of the model for the optimizer (and the scheduler, when given).
    void step(xgrad::optim::Optimizer& opt, xgrad::optim::LRScheduler* scheduler = nullptr) {
        xgrad::Tensor loss = xgrad::nn::cross_entropy(model(x), y);
        opt.zero_grad();
        loss.backward();
        opt.step();
        if (scheduler) scheduler->step();
    }

    // `steps` steps of SGD, then `steps` of Adam and the scheduler: every optimizer has state.
    void train(int steps) {
        for (int i = 0; i < steps; ++i) step(sgd);
        for (int i = 0; i < steps; ++i) step(adam, &sched);
        model.zero_grad();
    }

  private:
    static std::vector<xgrad::optim::SGD::Group> sgd_groups(const xgrad::nn::Module& m) {
        std::vector<xgrad::Tensor> first, rest;
        for (const auto& [name, p] : m.named_parameters())
            (name.rfind("0.", 0) == 0 ? first : rest).push_back(p);
        xgrad::optim::SGDOptions a;
        a.lr = 0.1;
        a.momentum = 0.9;
        xgrad::optim::SGDOptions b;
        b.lr = 0.05;
        b.momentum = 0.5;
        b.weight_decay = 1e-4;
        return {{first, a}, {rest, b}};
    }
    static xgrad::optim::AdamOptions adam_options() {
        xgrad::optim::AdamOptions o;
        o.lr = 0.01;
        o.amsgrad = true;
        return o;
    }
    static xgrad::optim::StepLROptions sched_options() {
        xgrad::optim::StepLROptions o;
        o.step_size = 2;
        o.gamma = 0.5;
        return o;
    }
};

}  // namespace xgrad_fuzz
