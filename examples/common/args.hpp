// A tiny command-line helper shared by the examples: declare each flag with a default and a help
// line, then parse. Accepts `--name value`, `--name=value` and bare `--flag` for booleans;
// `--help` prints the usage and exits 0, an unknown flag or a bad value prints it and exits 2.
//
//   examples::Args args("neuron", "One neuron learns AND and OR.");
//   int epochs = 2000;
//   bool quick = false;
//   args.option("--epochs", epochs, "training epochs");
//   args.flag("--quick", quick, "tiny configuration for CTest");
//   args.parse(argc, argv);
//   args.print_config();  // with --verbose (every example has it): xgrad::config(), after any
//                         // set_num_threads so that the thread counts shown are the ones used
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <xgrad/core/config.hpp>

namespace examples {

// Exit code of a test that cannot run here (e.g. Fashion-MNIST is not installed); the CTest
// entries set it as SKIP_RETURN_CODE, as automake does.
inline constexpr int kSkipExitCode = 77;

class Args {
  public:
    Args(std::string program, std::string description)
        : program_(std::move(program)), description_(std::move(description)) {}

    // Prints xgrad::config() (libraries, instruction set, threads) if --verbose was given.
    void print_config() const {
        if (verbose_) std::cout << xgrad::config() << std::flush;
    }

    // A boolean switch: present means true.
    void flag(const std::string& name, bool& target, const std::string& help) {
        entries_.push_back({name, &target, help, ""});
    }
    // A positional argument (given without a name, in declaration order); optional: `target`
    // holds the default.
    void positional(const std::string& name, std::string& target, const std::string& help) {
        positionals_.push_back({name, &target, help, target});
    }
    // An option with a value; `target` holds the default and receives the value.
    template <class T>
    void option(const std::string& name, T& target, const std::string& help) {
        std::ostringstream def;
        def << target;
        entries_.push_back({name, &target, help, def.str()});
    }

    void parse(int argc, char** argv) {
        if (!find("--verbose"))
            flag("--verbose", verbose_, "print the libraries, instruction set and threads used");
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                usage(std::cout);
                std::exit(0);
            }
            if (arg.rfind("--", 0) != 0) {  // not a flag: the next positional argument
                if (next_positional_ >= positionals_.size())
                    fail("unexpected argument '" + arg + "'");
                *std::get<std::string*>(positionals_[next_positional_++].target) = arg;
                continue;
            }
            std::string value;
            bool has_value = false;
            if (const auto eq = arg.find('='); eq != std::string::npos) {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_value = true;
            }
            Entry* e = find(arg);
            if (!e) fail("unknown argument '" + arg + "'");
            if (auto* b = std::get_if<bool*>(&e->target)) {
                if (has_value) fail(arg + " takes no value");
                **b = true;
                continue;
            }
            if (!has_value) {
                if (i + 1 >= argc) fail(arg + " needs a value");
                value = argv[++i];
            }
            if (!assign(e->target, value)) fail("bad value '" + value + "' for " + arg);
        }
    }

    void usage(std::ostream& os) const {
        os << "usage: " << program_ << " [options]";
        for (const Entry& e : positionals_) os << " [" << e.name << "]";
        os << "\n" << description_ << "\n\n";
        for (const Entry& e : positionals_) {
            os << "  " << e.name << ": " << e.help;
            if (!e.default_text.empty()) os << " (default " << e.default_text << ")";
            os << "\n\n";
        }
        os << "options:\n";
        for (const Entry& e : entries_) {
            std::string head =
                "  " + e.name + (std::holds_alternative<bool*>(e.target) ? "" : " V");
            if (head.size() < 22) head.resize(22, ' ');
            os << head << " " << e.help;
            if (!e.default_text.empty()) os << " (default " << e.default_text << ")";
            os << "\n";
        }
        os << "  --help                this text\n";
    }

  private:
    using Target = std::variant<bool*, int*, std::int64_t*, double*, std::string*>;
    struct Entry {
        std::string name;
        Target target;
        std::string help;
        std::string default_text;
    };

    Entry* find(const std::string& name) {
        for (Entry& e : entries_)
            if (e.name == name) return &e;
        return nullptr;
    }
    [[noreturn]] void fail(const std::string& message) const {
        std::cerr << program_ << ": " << message << "\n";
        usage(std::cerr);
        std::exit(2);
    }
    static bool assign(Target& target, const std::string& text) {
        try {
            std::size_t used = 0;
            if (auto* p = std::get_if<int*>(&target)) {
                **p = std::stoi(text, &used);
            } else if (auto* p = std::get_if<std::int64_t*>(&target)) {
                **p = std::stoll(text, &used);
            } else if (auto* p = std::get_if<double*>(&target)) {
                **p = std::stod(text, &used);
            } else if (auto* p = std::get_if<std::string*>(&target)) {
                **p = text;
                used = text.size();
            }
            return used == text.size();
        } catch (const std::exception&) {
            return false;
        }
    }

    std::string program_, description_;
    std::vector<Entry> entries_;
    std::vector<Entry> positionals_;
    std::size_t next_positional_ = 0;
    bool verbose_ = false;
};

// Seconds since construction, for the run times the examples print.
class Stopwatch {
  public:
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

  private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace examples
