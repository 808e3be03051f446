#include "mtif/output.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace mtif {

std::string csv_quote(const std::string& s) {
  bool plain = s.find_first_of(",\"\r\n") == std::string::npos && !s.empty() && s.front() != ' ' && s.back() != ' ';
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_json_file(const std::string& path, const nlohmann::json& j) {
  AtomicFile file(path);
  std::string text = j.dump(2) + "\n";
  file.write(text.data(), text.size());
  file.commit();
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the file for reading");
  return read_json(in, path);
}

nlohmann::json read_json(std::istream& in, const std::string& path) {
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(path + ": not valid JSON: " + e.what());
  }
}

void write_npy(const std::string& path, const MatrixXd& m) { write_npy(path, RowMajorMatrix(m)); }

void write_npy(const std::string& path, const RowMajorMatrix& m) {
  std::string header = fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, {}), }}", m.rows(), m.cols());
  // Magic (6) + version (2) + header length (2) + header, padded to 64 bytes, ending in '\n'.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  AtomicFile file(path);
  const char magic[] = {'\x93', 'N', 'U', 'M', 'P', 'Y', 1, 0};
  file.write(magic, sizeof magic);
  const unsigned short length = static_cast<unsigned short>(header.size());
  const char len_bytes[] = {static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  file.write(len_bytes, 2);
  file.write(header.data(), header.size());
  file.write(reinterpret_cast<const char*>(m.data()), sizeof(double) * m.size());
  file.commit();
}

// read_npy is in npy.cpp, beside the strict header parser it uses.

}  // namespace mtif
