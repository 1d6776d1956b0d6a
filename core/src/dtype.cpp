#include <ostream>

#include <xgrad/core/dtype.hpp>

namespace xgrad {

const char* dtype_name(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return "float32";
        case Dtype::f64:
            return "float64";
        case Dtype::i64:
            return "int64";
        case Dtype::b8:
            return "bool";
    }
    return "unknown";
}

std::size_t dtype_size(Dtype d) {
    switch (d) {
        case Dtype::f32:
            return 4;
        case Dtype::f64:
            return 8;
        case Dtype::i64:
            return 8;
        case Dtype::b8:
            return 1;
    }
    return 0;
}

std::ostream& operator<<(std::ostream& os, Dtype d) {
    return os << dtype_name(d);
}

}  // namespace xgrad
