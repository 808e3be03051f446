// Number text for large CSV outputs.
#pragma once

namespace mtif {

// Room one call of write_shortest may use.
constexpr int kShortestDoubleRoom = 32;

// Writes the shortest text that reads back as v and returns the end: the same
// characters as std::to_chars(first, last, v) (fixed or scientific, whichever
// is shorter, fixed on a tie; exponent of at least two digits), about twice as
// fast. The digits come from Dragonbox (Debian's libdragonbox-dev), which
// finds the shortest round-trip decimal as Ryu in libstdc++ does; this
// function only lays them out. Zero, infinities, NaN and values whose fixed
// form would end in padded zeros (integers of 10 and more with trailing
// zeros) go to std::to_chars itself.
char* write_shortest(char* out, double v);

}  // namespace mtif
