// xgrad's exception family. Every error names the op at fault and the shapes or values involved,
// so a user can find the mistake from the message alone.
#pragma once
#include <stdexcept>
#include <string>

namespace xgrad {

// Base of every exception xgrad throws on bad input.
class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};
// Shapes that do not fit the op (broadcasting, matmul inner dims, reshape sizes).
class ShapeError : public Error {
  public:
    using Error::Error;
};
// Wrong or mixed dtypes (f32 with f64, grad on an integer tensor).
class DtypeError : public Error {
  public:
    using Error::Error;
};
// An index, axis or position outside its valid range.
class IndexError : public Error {
  public:
    using Error::Error;
};
// A value that is not allowed (negative size, empty reduction, non-scalar item()).
class ValueError : public Error {
  public:
    using Error::Error;
};
// An allocation the machine cannot satisfy (the message names the size); never std::bad_alloc.
class OutOfMemoryError : public Error {
  public:
    using Error::Error;
};
// Misuse of the tape: backward through a released graph, backward on a non-scalar, etc.
class AutogradError : public Error {
  public:
    using Error::Error;
};

}  // namespace xgrad
