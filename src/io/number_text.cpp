#include "mtif/number_text.hpp"

#include <dragonbox/dragonbox.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace mtif {
namespace {

char* copy_digits(char* out, const char* digits, int count) {
  std::memcpy(out, digits, static_cast<std::size_t>(count));
  return out + count;
}

// "d.ddde-05": the first digit, the others after a point, at least two exponent digits.
char* write_scientific(char* out, const char* digits, int n, int exponent) {
  *out++ = digits[0];
  if (n > 1) {
    *out++ = '.';
    out = copy_digits(out, digits + 1, n - 1);
  }
  *out++ = 'e';
  *out++ = exponent < 0 ? '-' : '+';
  const int magnitude = std::abs(exponent);
  if (magnitude < 10) *out++ = '0';
  return std::to_chars(out, out + 4, magnitude).ptr;
}

// The n digits times 10^e, e <= 0, in fixed notation: "ddd", "dd.d" or "0.00ddd".
char* write_fixed(char* out, const char* digits, int n, int e) {
  if (e == 0) return copy_digits(out, digits, n);
  if (n > -e) {
    out = copy_digits(out, digits, n + e);
    *out++ = '.';
    return copy_digits(out, digits + n + e, -e);
  }
  *out++ = '0';
  *out++ = '.';
  std::memset(out, '0', static_cast<std::size_t>(-e - n));
  out += -e - n;
  return copy_digits(out, digits, n);
}

}  // namespace

char* write_shortest(char* out, double v) {
  if (v == 0 || !std::isfinite(v)) return std::to_chars(out, out + kShortestDoubleRoom, v).ptr;
  const auto decimal = jkj::dragonbox::to_decimal(v);  // v = +-significand x 10^exponent, fewest digits
  const int e = decimal.exponent;
  if (e > 0) return std::to_chars(out, out + kShortestDoubleRoom, v).ptr;
  char digits[24];
  const std::uint64_t significand = decimal.significand;
  const int n = static_cast<int>(std::to_chars(digits, digits + sizeof digits, significand).ptr - digits);
  const int scientific_exponent = e + n - 1;
  const int scientific_length = n + (n > 1) + 2 + (std::abs(scientific_exponent) >= 100 ? 3 : 2);
  const int fixed_length = e == 0 ? n : (n > -e ? n + 1 : 2 - e);
  if (decimal.is_negative) *out++ = '-';
  if (fixed_length <= scientific_length) return write_fixed(out, digits, n, e);
  return write_scientific(out, digits, n, scientific_exponent);
}

}  // namespace mtif
