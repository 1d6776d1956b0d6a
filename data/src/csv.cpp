// CSV tables of numbers (with an optional text class column).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include <xgrad/core/check.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/csv.hpp>

#include "atomic_file.hpp"

namespace xgrad::data {

namespace {

constexpr const char* kWho = "data::read_csv";

using fileio::quoted;

// Throws ValueError "xgrad::data::read_csv: '<file>': <parts...>".
template <class... Parts>
[[noreturn]] void fail(const std::string& file, const Parts&... parts) {
    fileio::raise_file(kWho, file, parts...);
}

struct Cell {
    std::string text;
};

struct Record {
    std::size_t line = 0;  // 1-based
    std::vector<Cell> cells;
};

class Parser {
  public:
    Parser(const std::string& text, char delimiter, const std::string& file)
        : text_(text), delim_(delimiter), file_(file) {
        if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;  // UTF-8 byte-order mark
    }

    // The next non-blank record; false at the end of the text.
    bool next(Record& rec) {
        while (pos_ < text_.size()) {
            std::size_t end = text_.find('\n', pos_);
            if (end == std::string::npos) end = text_.size();
            std::size_t stop = end;
            if (stop > pos_ && text_[stop - 1] == '\r') --stop;
            const std::size_t start = pos_;
            pos_ = end + 1;
            ++line_;
            if (is_blank(start, stop)) continue;
            rec.line = line_;
            rec.cells.clear();
            split(start, stop, rec);
            return true;
        }
        return false;
    }

  private:
    bool is_space(char c) const { return (c == ' ' || c == '\t') && c != delim_; }

    bool is_blank(std::size_t a, std::size_t b) const {
        for (std::size_t i = a; i < b; ++i)
            if (!is_space(text_[i])) return false;
        return true;
    }

    void split(std::size_t start, std::size_t stop, Record& rec) const {
        std::size_t i = start;
        while (true) {
            while (i < stop && is_space(text_[i])) ++i;
            Cell cell;
            if (i < stop && text_[i] == '"') {
                const std::size_t open = i++;
                bool closed = false;
                while (i < stop) {
                    if (text_[i] == '"') {
                        if (i + 1 < stop && text_[i + 1] == '"') {
                            cell.text += '"';
                            i += 2;
                            continue;
                        }
                        closed = true;
                        ++i;
                        break;
                    }
                    cell.text += text_[i++];
                }
                if (!closed)
                    fail(file_, "line ", line_, ", character ", open - start + 1,
                         ": the quote is not closed on this line");
                while (i < stop && is_space(text_[i])) ++i;
                if (i < stop && text_[i] != delim_)
                    fail(file_, "line ", line_, ", character ", i - start + 1,
                         ": text after a closing quote");
            } else {
                const std::size_t a = i;
                while (i < stop && text_[i] != delim_) ++i;
                std::size_t b = i;
                while (b > a && is_space(text_[b - 1])) --b;
                cell.text.assign(text_, a, b - a);
            }
            rec.cells.push_back(std::move(cell));
            if (i >= stop) break;
            ++i;              // the delimiter
            if (i == stop) {  // a trailing delimiter: one more, empty cell
                rec.cells.emplace_back();
                break;
            }
        }
    }

    const std::string& text_;
    char delim_;
    const std::string& file_;
    std::size_t pos_ = 0;
    std::size_t line_ = 0;
};

enum class Number {
    ok,         // `out` holds the value (possibly nan or inf: "nan", "inf", "infinity")
    malformed,  // not one number: empty, "abc", "2 3", "+-1", "1e"
    overflow,   // a number beyond float64's range ("1e400")
    underflow,  // a non-zero number too small for float64 ("1e-400")
};

// The whole cell as one number: an optional sign ('+' or '-', not both), then what
// std::from_chars reads (digits with an optional fraction and exponent, or nan/inf).
Number parse_number(const std::string& s, double& out) {
    const char* first = s.data();
    const char* last = s.data() + s.size();
    if (first != last && *first == '+') {
        ++first;
        if (first != last && *first == '-') return Number::malformed;  // "+-1"
    }
    if (first == last) return Number::malformed;
    const auto res = std::from_chars(first, last, out);
    if (res.ptr != last) return Number::malformed;
    if (res.ec == std::errc::result_out_of_range)
        return std::isinf(std::strtod(s.c_str(), nullptr)) ? Number::overflow : Number::underflow;
    return res.ec == std::errc() ? Number::ok : Number::malformed;
}

// The value of a cell that must be a finite number of `dtype` (float32 or float64); throws a
// ValueError naming the file, the cell (`where`) and its text otherwise. `what` qualifies "not
// a number" (" (regression targets must be numbers)").
double cell_value(const std::string& s, Dtype dtype, const std::string& file,
                  const std::string& where, const char* what = "") {
    double v = 0;
    switch (parse_number(s, v)) {
        case Number::malformed:
            if (s.empty()) fail(file, where, ": the cell is empty");
            fail(file, where, ": ", quoted(s), " is not a number", what);
        case Number::overflow:
            fail(file, where, ": ", quoted(s), " is out of the range of float64 (largest ",
                 std::numeric_limits<double>::max(), ")");
        case Number::underflow:
            fail(file, where, ": ", quoted(s),
                 " is too small for float64 (non-zero, but it would round to 0)");
        case Number::ok:
            break;
    }
    if (!std::isfinite(v)) fail(file, where, ": ", quoted(s), " is not a finite number");
    // A finite double that rounds to infinity in float32 would silently become inf.
    if (dtype == Dtype::f32 && std::isinf(static_cast<float>(v)))
        fail(file, where, ": ", quoted(s), " is out of the range of float32 (largest ",
             std::numeric_limits<float>::max(), ")");
    return v;
}

Tensor make_floats(const std::vector<double>& values, const Shape& shape, Dtype dtype) {
    Tensor t = make_tensor(shape, dtype);
    if (dtype == Dtype::f32) {
        float* p = t.data_ptr<float>();
        for (std::size_t i = 0; i < values.size(); ++i) p[i] = static_cast<float>(values[i]);
    } else {
        std::copy(values.begin(), values.end(), t.data_ptr<double>());
    }
    return t;
}

CsvTable parse_table(const std::string& text, const CsvOptions& options, const std::string& file) {
    Parser parser(text, options.delimiter, file);
    Record rec;
    std::vector<std::string> names;
    std::vector<Record> rows;
    if (options.header) {
        if (!parser.next(rec)) fail(file, "the file is empty (no header row)");
        for (auto& c : rec.cells) names.push_back(c.text);
    }
    while (parser.next(rec)) {
        if (names.empty())
            for (std::size_t i = 0; i < rec.cells.size(); ++i) names.push_back(std::to_string(i));
        if (rec.cells.size() != names.size())
            fail(file, "line ", rec.line, ": expected ", names.size(), " columns",
                 options.header ? " (as in the header)" : " (as in the first row)", ", got ",
                 rec.cells.size());
        rows.push_back(rec);
    }
    if (rows.empty()) fail(file, "the file has no data rows");
    const std::size_t ncols = names.size();

    // The target column.
    std::ptrdiff_t target = -1;
    if (options.target_column) {
        const CsvColumn& col = *options.target_column;
        if (col.by_index()) {
            std::int64_t idx = col.index();
            if (idx < 0) idx += static_cast<std::int64_t>(ncols);
            if (idx < 0 || idx >= static_cast<std::int64_t>(ncols))
                fail(file, "target column index ", col.index(), " is out of range for ", ncols,
                     " columns");
            target = static_cast<std::ptrdiff_t>(idx);
        } else {
            std::string all;
            for (std::size_t i = 0; i < ncols; ++i) {
                all += (all.empty() ? "" : ", ") + quoted(names[i]);
                if (names[i] != col.name()) continue;
                if (target >= 0) fail(file, "two columns are named ", quoted(col.name()));
                target = static_cast<std::ptrdiff_t>(i);
            }
            if (target < 0)
                fail(file, "no column is named ", quoted(col.name()), " (columns: ", all, ")");
        }
    }

    auto cell_where = [&](const Record& r, std::size_t c) {
        return "line " + std::to_string(r.line) + ", column " + std::to_string(c + 1) + " (" +
               quoted(names[c]) + ")";
    };

    CsvTable table;
    for (std::size_t c = 0; c < ncols; ++c)
        if (static_cast<std::ptrdiff_t>(c) != target) table.feature_names.push_back(names[c]);
    const std::size_t nfeat = table.feature_names.size();
    std::vector<double> features;
    features.reserve(rows.size() * nfeat);
    for (const Record& r : rows)
        for (std::size_t c = 0; c < ncols; ++c) {
            if (static_cast<std::ptrdiff_t>(c) == target) continue;
            features.push_back(cell_value(r.cells[c].text, options.dtype, file, cell_where(r, c)));
        }
    const auto nrows = static_cast<std::int64_t>(rows.size());
    table.features =
        make_floats(features, Shape{nrows, static_cast<std::int64_t>(nfeat)}, options.dtype);
    if (target < 0) return table;

    const auto t = static_cast<std::size_t>(target);
    table.target_name = names[t];
    std::vector<double> numbers(rows.size());
    bool all_numeric = true;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::string& s = rows[i].cells[t].text;
        if (s.empty()) fail(file, cell_where(rows[i], t), ": the target cell is empty");
        all_numeric =
            all_numeric && parse_number(s, numbers[i]) == Number::ok && std::isfinite(numbers[i]);
    }
    table.task = options.task;
    if (table.task == CsvTask::Auto)
        table.task = all_numeric ? CsvTask::Regression : CsvTask::Classification;

    if (table.task == CsvTask::Regression) {
        for (std::size_t i = 0; i < rows.size(); ++i)
            numbers[i] =
                cell_value(rows[i].cells[t].text, options.dtype, file, cell_where(rows[i], t),
                           " (regression targets must be numbers)");
        table.targets = make_floats(numbers, Shape{nrows}, options.dtype);
        return table;
    }

    // Classification: distinct names, sorted numerically when all are numbers, else as text.
    std::map<std::string, double> distinct;
    for (std::size_t i = 0; i < rows.size(); ++i)
        distinct.emplace(rows[i].cells[t].text, all_numeric ? numbers[i] : 0.0);
    std::vector<std::pair<double, std::string>> order;
    for (const auto& [name, value] : distinct) order.emplace_back(value, name);
    std::sort(order.begin(), order.end());
    std::map<std::string, std::int64_t> index;
    for (const auto& [value, name] : order) {
        index.emplace(name, static_cast<std::int64_t>(table.class_names.size()));
        table.class_names.push_back(name);
    }
    Tensor y = make_tensor(Shape{nrows}, Dtype::i64);
    std::int64_t* py = y.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < rows.size(); ++i) py[i] = index.at(rows[i].cells[t].text);
    table.targets = y;
    return table;
}

}  // namespace

CsvTable parse_csv(const std::string& text, CsvOptions options, const std::string& file) {
    XGRAD_CHECK(is_floating(options.dtype), DtypeError, kWho,
                "dtype must be float32 or float64, got ", dtype_name(options.dtype));
    XGRAD_CHECK(options.delimiter != '"' && options.delimiter != '\n' && options.delimiter != '\r',
                ValueError, kWho, "the delimiter cannot be a quote or a line break");
    try {
        return parse_table(text, options, file);
    } catch (...) {
        fileio::rethrow_load_error(kWho, file);
    }
}

CsvTable read_csv(const std::string& path, CsvOptions options) {
    std::string text;
    try {
        fileio::InputFile in(kWho, path);
        text = in.read_rest();
    } catch (...) {
        fileio::rethrow_load_error(kWho, path);
    }
    return parse_csv(text, options, path);
}

}  // namespace xgrad::data
