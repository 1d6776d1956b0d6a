// Numeric tables from CSV files.
//
//   data::CsvTable iris = data::read_csv("iris.csv", {.target_column = "species",
//                                                     .task = data::CsvTask::Classification});
//   iris.features      // float32 [150, 4]
//   iris.targets       // int64 [150], indices into iris.class_names
//   data::DataLoader loader(iris.dataset(), {.batch_size = 16, .shuffle = true});
//
// Every column except the target is a feature and must hold numbers. The target column is named
// or indexed (negative indices count from the end; the default is the last column) or absent
// (std::nullopt: all columns are features). Classification targets may be any text: the distinct
// values are sorted (numerically when they are all numbers, else as text) and mapped to int64
// indices 0..K-1, and their names are returned. Regression targets are numbers.
//
// Cells are trimmed of spaces; fields may be quoted ("a, b" and "" for a quote) within a line;
// blank lines are skipped; \r\n line ends and a UTF-8 byte-order mark are accepted. A number is
// the whole cell: an optional sign ('+' or '-', not both: "+1" is 1, "+-1" an error), digits
// with an optional fraction and exponent ("-.5e+3"); it must be finite and within the range of
// the dtype ("1e300" is an error for float32 rather than inf; "nan", "inf" and "1e400" are
// errors). A row with a different number of cells than the header, or a feature (or regression
// target) cell that is not such a number, is a ValueError naming the file, the line, the column
// and the cell's text. read_csv reads only regular files (a FIFO, a folder or a device is a
// ValueError at once); running out of memory is an OutOfMemoryError naming the file.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/data/dataset.hpp>

namespace xgrad::data {

// A column by name or by (0-based, possibly negative) index.
class CsvColumn {
  public:
    CsvColumn(const char* name) : name_(name) {}
    CsvColumn(std::string name) : name_(std::move(name)) {}
    CsvColumn(int index) : index_(index), by_index_(true) {}
    CsvColumn(std::int64_t index) : index_(index), by_index_(true) {}

    bool by_index() const { return by_index_; }
    const std::string& name() const { return name_; }
    std::int64_t index() const { return index_; }

  private:
    std::string name_;
    std::int64_t index_ = 0;
    bool by_index_ = false;
};

enum class CsvTask {
    Auto,            // classification if some target cell is not a number, else regression
    Classification,  // int64 class indices
    Regression,      // floating targets
};

struct CsvOptions {
    bool header = true;  // the first row names the columns (else they are named "0", "1", ...)
    char delimiter = ',';
    std::optional<CsvColumn> target_column = CsvColumn(-1);
    CsvTask task = CsvTask::Auto;
    Dtype dtype = Dtype::f32;  // of the features (and of regression targets): f32 or f64
};

struct CsvTable {
    Tensor features;  // [rows, columns - 1] (or all columns)
    Tensor targets;   // [rows]; undefined without a target column
    std::vector<std::string> feature_names;
    std::string target_name;
    std::vector<std::string> class_names;  // classification: index -> name
    CsvTask task = CsvTask::Auto;          // what the targets turned out to be

    // features and targets as a dataset.
    TensorDataset dataset() const { return TensorDataset(features, targets); }
};

CsvTable read_csv(const std::string& path, CsvOptions options = {});
// The same from text in memory (`name` stands for the file in error messages).
CsvTable parse_csv(const std::string& text, CsvOptions options = {},
                   const std::string& name = "<memory>");

}  // namespace xgrad::data
