// libFuzzer target: the CSV reader (xgrad/data/csv.hpp).
//
// Input layout: the first byte chooses the options, the rest is the CSV text.
//   bit 0      header off (the first row is data)
//   bits 1-2   delimiter: ',' ';' '\t' ' '
//   bits 3-4   target column: index -1 (the default), none, index 0, the column named "y"
//   bits 5-6   task and dtype: Auto/float32, Classification/float32, Regression/float32,
//              Auto/float64
//   bit 7      also read the text from a scratch file with read_csv (and compare)
// Checks: only xgrad::Error escapes a rejection, and an accepted table agrees with an
// independent splitting of the text by the documented rules: the column names, the shapes, and
// every feature (and regression target) is a decimal number ([+-]digits[.digits][e[+-]digits])
// whose value, converted to the dtype, is finite and is what the table holds; class indices
// point at the right, distinct, sorted class names.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <xgrad/data/csv.hpp>

#include "fuzz_common.hpp"
#include "tensor_checks.hpp"

using namespace xgrad;
using namespace xgrad_fuzz;

namespace {

data::CsvOptions options_from(unsigned char b) {
    data::CsvOptions o;
    o.header = !(b & 1);
    static const char delimiters[] = {',', ';', '\t', ' '};
    o.delimiter = delimiters[(b >> 1) & 3];
    switch ((b >> 3) & 3) {
        case 0:
            o.target_column = data::CsvColumn(-1);
            break;
        case 1:
            o.target_column = std::nullopt;
            break;
        case 2:
            o.target_column = data::CsvColumn(0);
            break;
        default:
            o.target_column = data::CsvColumn("y");
    }
    switch ((b >> 5) & 3) {
        case 0:
            o.task = data::CsvTask::Auto;
            break;
        case 1:
            o.task = data::CsvTask::Classification;
            break;
        case 2:
            o.task = data::CsvTask::Regression;
            break;
        default:
            o.task = data::CsvTask::Auto;
            o.dtype = Dtype::f64;
    }
    return o;
}

// ---- the reference splitting (the rules of xgrad/data/csv.hpp) ----------------------------

using Row = std::vector<std::string>;

bool is_space(char c, char delim) {
    return (c == ' ' || c == '\t') && c != delim;
}

// The non-blank records; false if a quote is not closed or text follows a closing quote.
bool split_records(const std::string& text, char delim, std::vector<Row>& rows) {
    std::size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::size_t stop = end;
        if (stop > pos && text[stop - 1] == '\r') --stop;
        std::size_t i = pos;
        pos = end + 1;
        bool blank = true;
        for (std::size_t k = i; k < stop; ++k) blank = blank && is_space(text[k], delim);
        if (blank) continue;
        Row row;
        while (true) {
            while (i < stop && is_space(text[i], delim)) ++i;
            std::string cell;
            if (i < stop && text[i] == '"') {
                ++i;
                bool closed = false;
                while (i < stop) {
                    if (text[i] == '"') {
                        if (i + 1 < stop && text[i + 1] == '"') {
                            cell += '"';
                            i += 2;
                            continue;
                        }
                        closed = true;
                        ++i;
                        break;
                    }
                    cell += text[i++];
                }
                if (!closed) return false;
                while (i < stop && is_space(text[i], delim)) ++i;
                if (i < stop && text[i] != delim) return false;
            } else {
                const std::size_t a = i;
                while (i < stop && text[i] != delim) ++i;
                std::size_t b = i;
                while (b > a && is_space(text[b - 1], delim)) --b;
                cell = text.substr(a, b - a);
            }
            row.push_back(std::move(cell));
            if (i >= stop) break;
            ++i;
            if (i == stop) {
                row.emplace_back();
                break;
            }
        }
        rows.push_back(std::move(row));
    }
    return true;
}

// A decimal number: [+-] digits [. digits] [(e|E) [+-] digits], at least one mantissa digit,
// within double's range.
bool decimal_number(const std::string& s, double& v) {
    std::size_t i = 0;
    const std::size_t n = s.size();
    auto digits = [&] {
        const std::size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
        return i - start;
    };
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t mantissa = digits();
    if (i < n && s[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
        if (digits() == 0) return false;
    }
    if (i != n) return false;
    // The value, correctly rounded; out of double's range (overflow, or underflow to zero) is
    // not a number.
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    const auto res = std::from_chars(first, s.data() + n, v);
    return res.ec == std::errc() && res.ptr == s.data() + n;
}

// |v| rounds to a finite float32 (below FLT_MAX plus half an ulp).
bool fits_float(double v) {
    return std::fabs(v) < 0x1.ffffffp127;
}

// The cell must be a number that is finite in `dtype`, and `got` its converted value.
void check_number(const std::string& cell, Dtype dtype, const Tensor& t, std::size_t i,
                  const std::string& where) {
    double v = 0;
    if (!decimal_number(cell, v)) fuzz_fail(where + ": accepted '" + cell + "' as a number");
    if (!std::isfinite(v)) fuzz_fail(where + ": accepted '" + cell + "', which is not finite");
    if (dtype == Dtype::f32) {
        if (!fits_float(v)) fuzz_fail(where + ": accepted '" + cell + "', which overflows float32");
        if (t.data_ptr<float>()[i] != static_cast<float>(v))
            fuzz_fail(where + ": '" + cell + "' was read as another value");
    } else if (t.data_ptr<double>()[i] != v) {
        fuzz_fail(where + ": '" + cell + "' was read as another value");
    }
}

void check_table(const data::CsvTable& table, const std::string& text, const data::CsvOptions& o) {
    std::vector<Row> records;
    if (!split_records(text, o.delimiter, records))
        fuzz_fail("accepted a text with an unclosed quote or text after a closing quote");
    if (o.header && records.empty()) fuzz_fail("accepted an empty text");
    Row names;
    if (o.header) {
        names = records.front();
        records.erase(records.begin());
    } else if (!records.empty()) {
        for (std::size_t i = 0; i < records.front().size(); ++i) names.push_back(std::to_string(i));
    }
    if (records.empty()) fuzz_fail("accepted a table without data rows");
    for (const Row& r : records)
        if (r.size() != names.size()) fuzz_fail("accepted rows of different lengths");
    const std::size_t ncols = names.size(), nrows = records.size();

    std::ptrdiff_t target = -1;
    if (o.target_column) {
        if (o.target_column->by_index()) {
            std::int64_t idx = o.target_column->index();
            if (idx < 0) idx += static_cast<std::int64_t>(ncols);
            target = static_cast<std::ptrdiff_t>(idx);
        } else {
            const auto n = std::count(names.begin(), names.end(), o.target_column->name());
            if (n != 1)
                fuzz_fail("accepted a target name that names " + std::to_string(n) + " columns");
            target = std::find(names.begin(), names.end(), o.target_column->name()) - names.begin();
        }
        if (target < 0 || target >= static_cast<std::ptrdiff_t>(ncols))
            fuzz_fail("accepted an out-of-range target column");
    }

    Row feature_names;
    for (std::size_t c = 0; c < ncols; ++c)
        if (static_cast<std::ptrdiff_t>(c) != target) feature_names.push_back(names[c]);
    if (table.feature_names != feature_names) fuzz_fail("wrong feature names");
    const auto nfeat = static_cast<std::int64_t>(feature_names.size());
    if (table.features.shape() != Shape{static_cast<std::int64_t>(nrows), nfeat} ||
        table.features.dtype() != o.dtype)
        fuzz_fail("wrong feature shape or dtype");
    exercise_tensor(table.features, "features");
    std::size_t k = 0;
    for (std::size_t r = 0; r < nrows; ++r)
        for (std::size_t c = 0; c < ncols; ++c)
            if (static_cast<std::ptrdiff_t>(c) != target)
                check_number(records[r][c], o.dtype, table.features, k++,
                             "row " + std::to_string(r) + ", column " + std::to_string(c));

    if (target < 0) {
        if (table.targets.defined()) fuzz_fail("targets without a target column");
        return;
    }
    const auto t = static_cast<std::size_t>(target);
    if (table.target_name != names[t]) fuzz_fail("wrong target name");
    if (!table.targets.defined() ||
        table.targets.shape() != Shape{static_cast<std::int64_t>(nrows)})
        fuzz_fail("wrong target shape");
    exercise_tensor(table.targets, "targets");
    bool all_numbers = true;  // finite in the dtype
    for (const Row& r : records) {
        if (r[t].empty()) fuzz_fail("accepted an empty target cell");
        double v = 0;
        all_numbers = all_numbers && decimal_number(r[t], v) && std::isfinite(v) &&
                      (o.dtype == Dtype::f64 || fits_float(v));
    }
    if (o.task != data::CsvTask::Auto && table.task != o.task) fuzz_fail("wrong task");
    if (table.task == data::CsvTask::Regression) {
        if (table.targets.dtype() != o.dtype) fuzz_fail("wrong regression target dtype");
        for (std::size_t r = 0; r < nrows; ++r)
            check_number(records[r][t], o.dtype, table.targets, r,
                         "target of row " + std::to_string(r));
        return;
    }
    if (table.task != data::CsvTask::Classification) fuzz_fail("the task is still Auto");
    if (o.task == data::CsvTask::Auto && all_numbers)
        fuzz_fail("Auto chose classification for numeric targets");
    if (table.targets.dtype() != Dtype::i64) fuzz_fail("class indices are not int64");
    // Distinct names, sorted numerically when all are numbers (ties by text), else as text.
    bool numeric = true;
    std::map<std::string, double> distinct;
    for (const Row& r : records) {
        double v = 0;
        numeric = numeric && decimal_number(r[t], v) && std::isfinite(v);
        distinct.emplace(r[t], v);
    }
    std::vector<std::pair<double, std::string>> order;
    for (const auto& [name, v] : distinct) order.emplace_back(numeric ? v : 0.0, name);
    std::sort(order.begin(), order.end());
    Row classes;
    for (const auto& p : order) classes.push_back(p.second);
    if (table.class_names != classes) fuzz_fail("wrong or wrongly ordered class names");
    for (std::size_t r = 0; r < nrows; ++r) {
        const std::int64_t idx = table.targets.data_ptr<std::int64_t>()[r];
        if (idx < 0 || idx >= static_cast<std::int64_t>(classes.size()) ||
            classes[static_cast<std::size_t>(idx)] != records[r][t])
            fuzz_fail("wrong class index in row " + std::to_string(r));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    init_target();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const TempFile file("csv", ".csv");
    if (size == 0) return 0;
    const data::CsvOptions options = options_from(data[0]);
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);

    data::CsvTable table;
    std::string error;
    const bool ok = accepts([&] { table = data::parse_csv(text, options); }, &error);
    note("parse_csv", ok, error);
    if (data[0] & 0x80) {
        file.write(text);
        data::CsvTable from_file;
        std::string file_error;
        const bool file_ok =
            accepts([&] { from_file = data::read_csv(file.path(), options); }, &file_error);
        file.remove();
        if (ok != file_ok)
            fuzz_fail("parse_csv " + std::string(ok ? "accepts" : "rejects (" + error + ")") +
                      " but read_csv " +
                      (file_ok ? std::string("accepts") : "rejects (" + file_error + ")"));
        if (ok && (tensor_bytes(table.features) != tensor_bytes(from_file.features) ||
                   tensor_bytes(table.targets) != tensor_bytes(from_file.targets) ||
                   table.class_names != from_file.class_names ||
                   table.feature_names != from_file.feature_names))
            fuzz_fail("parse_csv and read_csv read the same text differently");
    }
    if (ok) check_table(table, text, options);
    return 0;
}
