#include "mtif/csv_reader.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <deque>
#include <filesystem>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>

namespace mtif {
namespace {

// Splits one line into fields, honouring RFC 4180 double quotes within one
// line ("" is a literal quote). Unquoted copies of quoted fields live in
// `storage`; a deque keeps the views into it valid while it grows.
// Returns false when a quote is left open.
bool split_fields(std::string_view line, std::vector<std::string_view>& fields, std::deque<std::string>& storage) {
  fields.clear();
  storage.clear();
  size_t pos = 0;
  while (true) {
    if (pos < line.size() && line[pos] == '"') {
      std::string& value = storage.emplace_back();
      size_t i = pos + 1;
      bool closed = false;
      for (; i < line.size(); ++i) {
        if (line[i] != '"') {
          value.push_back(line[i]);
        } else if (i + 1 < line.size() && line[i + 1] == '"') {
          value.push_back('"');
          ++i;
        } else {
          closed = true;
          ++i;
          break;
        }
      }
      if (!closed) return false;
      size_t next = std::min(line.find(',', i), line.size());
      value.append(line.substr(i, next - i));  // text after the closing quote stays visible to the number check
      fields.emplace_back(value);
      if (next == line.size()) return true;
      pos = next + 1;
    } else {
      size_t next = line.find(',', pos);
      if (next == std::string_view::npos) {
        fields.push_back(line.substr(pos));
        return true;
      }
      fields.push_back(line.substr(pos, next - pos));
      pos = next + 1;
    }
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Natural order: runs of digits compare by value ("task2" < "task10", "9" < "10").
bool label_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) && std::isdigit(static_cast<unsigned char>(b[j]))) {
      size_t ie = i, je = j;
      while (ie < a.size() && std::isdigit(static_cast<unsigned char>(a[ie]))) ++ie;
      while (je < b.size() && std::isdigit(static_cast<unsigned char>(b[je]))) ++je;
      std::string_view da = std::string_view(a).substr(i, ie - i), db = std::string_view(b).substr(j, je - j);
      while (da.size() > 1 && da[0] == '0') da.remove_prefix(1);
      while (db.size() > 1 && db[0] == '0') db.remove_prefix(1);
      if (da.size() != db.size()) return da.size() < db.size();
      if (da != db) return da < db;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;  // e.g. "01" vs "1": fall back to plain text order
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out += (static_cast<unsigned char>(c) < 32 || c == 127) ? '?' : c;
  if (s.size() > 40) out += "...";
  return out;
}

class CsvParser {
 public:
  CsvParser(std::string_view text, const std::string& name, const CsvOptions& options)
      : text_(text), name_(name), options_(options) {}

  ParsedCsv parse() {
    read_header();
    line_no_ += options_.line_offset;
    std::vector<std::string_view> fields;
    while (next_line()) {
      if (trim(line_).empty()) continue;
      split_line(fields);
      if (fields.size() < header_.size())
        fail(fields.size() + 1, fmt::format("ragged row: {} fields, the header has {} (no value for {})",
                                            fields.size(), header_.size(), column_label(fields.size())));
      if (fields.size() > header_.size())
        fail(header_.size() + 1, fmt::format("ragged row: {} fields, the header has {} (field {} is past the last {})",
                                             fields.size(), header_.size(), header_.size() + 1,
                                             column_label(header_.size() - 1)));
      add_row(fields);
    }
    if (rows_seen_ == 0) fail_line(line_no_, 1, "no data rows after the header");
    return assign_task_ids();
  }

 private:
  [[noreturn]] void fail_line(long line, size_t column, const std::string& message) const {
    throw DataError(fmt::format("{}:{}:{}: {}", name_, line, column, message));
  }
  [[noreturn]] void fail(size_t column, const std::string& message) const {
    fail_line(line_no_, column, message);
  }
  std::string column_label(size_t col) const { return fmt::format("column '{}'", printable(header_[col])); }

  bool next_line() {
    if (pos_ >= text_.size()) return false;
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    line_ = text_.substr(pos_, end - pos_);
    if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
    pos_ = end + 1;
    ++line_no_;
    if (size_t nul = line_.find('\0'); nul != std::string_view::npos) {
      size_t col = static_cast<size_t>(std::count(line_.begin(), line_.begin() + nul, ',')) + 1;
      fail(col, fmt::format("the line contains a NUL byte{} (binary file?)",
                            col <= header_.size() ? " in " + column_label(col - 1) : std::string()));
    }
    return true;
  }

  void split_line(std::vector<std::string_view>& fields) {
    if (!split_fields(line_, fields, quoted_)) {
      size_t col = fields.size();  // the fields before the one whose quote is left open
      fail(col + 1, fmt::format("a double quote opened in {} is never closed on this line",
                                col < header_.size() ? column_label(col) : fmt::format("field {}", col + 1)));
    }
  }

  void read_header() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // UTF-8 byte order mark (spreadsheet exports)
    if (pos_ >= text_.size() || !next_line() || trim(line_).empty())
      throw DataError(fmt::format("{}:1:1: empty file (expected a header line)", name_));
    std::vector<std::string_view> fields;
    split_line(fields);
    for (auto f : fields) header_.emplace_back(trim(f));
    std::unordered_set<std::string_view> seen;
    for (size_t c = 0; c < header_.size(); ++c) {
      if (header_[c].empty()) fail(c + 1, "empty column name in the header");
      if (!seen.insert(header_[c]).second)
        fail(c + 1, fmt::format("column '{}' appears twice in the header", printable(header_[c])));
    }
    task_col_ = find_required(options_.task_column, "task column", "choose it with --task-column");
    target_col_ = find_required(options_.target_column, "target column", "choose it with --target");
    split_col_ = find_column(options_.split_column);
    if (options_.features.empty()) {
      for (size_t c = 0; c < header_.size(); ++c)
        if (c != task_col_ && c != target_col_ && c != split_col_) feature_cols_.push_back(c);
    } else {
      for (const auto& f : options_.features) {
        size_t c = find_column(f);
        if (c == npos)
          fail_line(1, header_.size() + 1, fmt::format("missing feature column '{}' (named by --features)", f));
        if (c == task_col_ || c == target_col_ || c == split_col_)
          fail_line(1, c + 1, fmt::format("column '{}' cannot be both a feature and the task/target/split", f));
        if (std::find(feature_cols_.begin(), feature_cols_.end(), c) != feature_cols_.end())
          fail_line(1, c + 1, fmt::format("column '{}' is named twice by --features", f));
        feature_cols_.push_back(c);
      }
    }
    if (feature_cols_.empty()) fail_line(1, 1, "no feature columns: every column is task, target or split");
    for (auto* raw : {&out_.train, &out_.test})
      for (size_t c : feature_cols_) raw->feature_names.push_back(header_[c]);
    out_.has_split = split_col_ != npos;
    // Reserve for every line being a training row, so the value arrays never regrow.
    size_t lines = 1;
    for (const char* p = text_.data() + std::min(pos_, text_.size()), *end = text_.data() + text_.size();
         (p = static_cast<const char*>(std::memchr(p, '\n', end - p))) != nullptr; ++p)
      ++lines;
    out_.train.values.reserve(lines * feature_cols_.size());
    out_.train.y.reserve(lines);
    out_.train.task.reserve(lines);
    train_lines_.reserve(lines);
  }

  static constexpr size_t npos = static_cast<size_t>(-1);
  size_t find_column(const std::string& name) const {
    auto it = std::find(header_.begin(), header_.end(), name);
    return it == header_.end() ? npos : static_cast<size_t>(it - header_.begin());
  }
  size_t find_required(const std::string& name, const char* what, const char* hint) const {
    size_t c = find_column(name);
    if (c == npos) fail_line(1, header_.size() + 1, fmt::format("missing {} '{}' in the header ({})", what, name, hint));
    return c;
  }

  double parse_number(std::string_view field, size_t col) const {
    std::string_view s = trim(field);
    if (s.empty()) fail(col + 1, fmt::format("empty value in {}", column_label(col)));
    if (s.front() == '+' && (s.size() == 1 || s[1] != '-')) s.remove_prefix(1);  // "+-1" stays non-numeric
    double value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range)
      fail(col + 1, fmt::format("value '{}' in {} is out of the range of a double", printable(field), column_label(col)));
    if (ec != std::errc() || end != s.data() + s.size())
      fail(col + 1, fmt::format("non-numeric value '{}' in {}", printable(field), column_label(col)));
    if (!std::isfinite(value))
      fail(col + 1, fmt::format("value '{}' in {} is not finite (NaN and Inf are refused)", printable(field), column_label(col)));
    return value;
  }

  void add_row(const std::vector<std::string_view>& fields) {
    ++rows_seen_;
    bool is_test = false;
    if (split_col_ != npos) {
      std::string_view s = trim(fields[split_col_]);
      if (s == "train") is_test = false;
      else if (s == "test") is_test = true;
      else fail(split_col_ + 1, fmt::format("split value '{}' in {} must be 'train' or 'test'", printable(s), column_label(split_col_)));
    }
    std::string_view label = trim(fields[task_col_]);
    if (label.empty()) fail(task_col_ + 1, fmt::format("empty task label in {}", column_label(task_col_)));
    RawRows& raw = is_test ? out_.test : out_.train;
    for (size_t c : feature_cols_) raw.values.push_back(parse_number(fields[c], c));
    raw.y.push_back(parse_number(fields[target_col_], target_col_));
    auto [it, inserted] = label_ids_.try_emplace(std::string(label), static_cast<int>(labels_.size()));
    if (inserted) labels_.emplace_back(label);
    raw.task.push_back(it->second);
    (is_test ? test_lines_ : train_lines_).push_back(line_no_);
  }

  // Task ids follow the sorted task labels (numbers by value, then text), so
  // outputs list tasks in the same order however the rows are shuffled.
  ParsedCsv assign_task_ids() {
    std::vector<int> train_locals;
    std::vector<char> in_train(labels_.size(), 0);
    for (int local : out_.train.task)
      if (!in_train[local]) {
        in_train[local] = 1;
        train_locals.push_back(local);
      }
    std::sort(train_locals.begin(), train_locals.end(),
              [&](int a, int b) { return label_less(labels_[a], labels_[b]); });
    std::vector<int> remap(labels_.size(), -1);
    for (int local : train_locals) {
      remap[local] = static_cast<int>(out_.train.task_names.size());
      out_.train.task_names.push_back(labels_[local]);
    }
    for (int& t : out_.train.task) t = remap[t];
    for (size_t i = 0; i < out_.test.task.size(); ++i) {
      int local = out_.test.task[i];
      if (remap[local] < 0)
        fail_line(test_lines_[i], task_col_ + 1,
                  fmt::format("test task '{}' in {} has no training rows", printable(labels_[local]),
                              column_label(task_col_)));
      out_.test.task[i] = remap[local];
    }
    out_.test.task_names = out_.train.task_names;
    return std::move(out_);
  }

  std::string_view text_;
  const std::string& name_;
  const CsvOptions& options_;
  size_t pos_ = 0;
  long line_no_ = 0;
  std::string_view line_;
  std::deque<std::string> quoted_;
  std::vector<std::string> header_;
  size_t task_col_ = npos, target_col_ = npos, split_col_ = npos;
  std::vector<size_t> feature_cols_;
  std::unordered_map<std::string, int> label_ids_;
  std::vector<std::string> labels_;
  std::vector<long> train_lines_, test_lines_;
  long rows_seen_ = 0;
  ParsedCsv out_;
};

// The bytes of a file: a read-only memory map for regular files (no copy, and
// the pages go back to the OS when parsing is done), a buffer for pipes.
struct FileText {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  void* mapped = nullptr;
  FileText() = default;
  FileText(FileText&& o) noexcept : data(std::move(o.data)), size(o.size), mapped(o.mapped) { o.mapped = nullptr; }
  FileText& operator=(FileText&&) = delete;
  ~FileText() {
    if (mapped) ::munmap(mapped, size);
  }
  std::string_view view() const { return {mapped ? static_cast<const char*>(mapped) : data.get(), size}; }
};

// Maps a regular, non-empty file; returns an empty FileText when it cannot.
FileText map_file(const std::string& path) {
  FileText text;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      text.mapped = p;
      text.size = static_cast<size_t>(st.st_size);
    }
  }
  ::close(fd);
  return text;
}

FileText read_file(const std::string& path) {
  if (FileText mapped = map_file(path); mapped.mapped) return mapped;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw DataError(fmt::format("{}:0:0: cannot open the file for reading", path));
  std::error_code ec;  // a folder opens, and its "size" at SEEK_END can be 2^63 - 1
  if (std::filesystem::is_directory(path, ec)) throw DataError(fmt::format("{}:0:0: is a folder, not a file", path));
  FileText text;
  size_t capacity = 1 << 16;
  if (std::fseek(file.get(), 0, SEEK_END) == 0) {
    long size = std::ftell(file.get());
    std::rewind(file.get());
    if (size > 0) capacity = static_cast<size_t>(size) + 1;
  }
  text.data.reset(new char[capacity]);
  // Reads until end of file, growing the buffer if the file was not seekable (a pipe).
  for (size_t got; (got = std::fread(text.data.get() + text.size, 1, capacity - text.size, file.get())) > 0;) {
    text.size += got;
    if (text.size == capacity) {
      std::unique_ptr<char[]> bigger(new char[capacity * 2]);
      std::copy(text.data.get(), text.data.get() + text.size, bigger.get());
      text.data = std::move(bigger);
      capacity *= 2;
    }
  }
  if (std::ferror(file.get()))  // not a short file: a read that failed (EIO, a folder, ...)
    throw DataError(fmt::format("{}:0:0: cannot read the file: {}", path, std::strerror(errno)));
  return text;
}

// Trimmed header fields of text that parse_csv accepted.
std::vector<std::string> header_columns(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::string_view line = text.substr(0, text.find('\n'));
  std::vector<std::string_view> fields;
  std::deque<std::string> storage;
  split_fields(line, fields, storage);
  std::vector<std::string> out;
  for (auto f : fields) out.emplace_back(trim(f));
  return out;
}

// 1-based column of `name`, or one past the last column when it is absent.
size_t column_number(const std::vector<std::string>& header, const std::string& name) {
  return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin()) + 1;
}

// Maps the task ids of rows parsed on their own onto the task ids of `train`.
void remap_to_train_tasks(RawRows& rows, const std::vector<std::string>& train_tasks, const std::string& path,
                          const std::vector<long>& lines, const std::vector<std::string>& header,
                          const std::string& task_column) {
  std::unordered_map<std::string, int> id;
  for (size_t k = 0; k < train_tasks.size(); ++k) id[train_tasks[k]] = static_cast<int>(k);
  for (size_t i = 0; i < rows.task.size(); ++i) {
    const std::string& label = rows.task_names[rows.task[i]];
    auto it = id.find(label);
    if (it == id.end())
      throw DataError(fmt::format("{}:{}:{}: task '{}' in column '{}' has no training rows", path, lines[i],
                                  column_number(header, task_column), printable(label), task_column));
    rows.task[i] = it->second;
  }
  rows.task_names = train_tasks;
}

// The feature columns of `path` (whose header is `header`) must be the training file's, in order.
void check_same_features(const std::vector<std::string>& train, const std::vector<std::string>& other,
                         const std::vector<std::string>& header, const std::string& path) {
  for (size_t i = 0; i < std::max(train.size(), other.size()); ++i) {
    if (i >= other.size())
      throw DataError(fmt::format("{}:1:{}: missing feature column '{}' that the training data has", path,
                                  header.size() + 1, printable(train[i])));
    if (i >= train.size())
      throw DataError(fmt::format("{}:1:{}: column '{}' is not a feature of the training data", path,
                                  column_number(header, other[i]), printable(other[i])));
    if (train[i] != other[i])
      throw DataError(fmt::format("{}:1:{}: feature column '{}' where the training data has '{}' (feature columns "
                                  "must match the training data's, in order)",
                                  path, column_number(header, other[i]), printable(other[i]), printable(train[i])));
  }
}

}  // namespace

bool task_label_less(const std::string& a, const std::string& b) { return label_less(a, b); }

ParsedCsv parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  return CsvParser(text, name, options).parse();
}

namespace {
// Parses a file whose rows all belong to one split, remembering its header and
// the line of each row for error messages about tasks and features.
struct SingleSplit {
  RawRows rows;
  std::vector<std::string> header;
  std::vector<long> lines;
};
SingleSplit parse_single_split(const std::string& path, const CsvOptions& options) {
  FileText file = read_file(path);
  std::string_view text = file.view();
  ParsedCsv parsed = parse_csv(text, path, options);
  SingleSplit out;
  out.header = header_columns(text);
  if (parsed.has_split && !parsed.test.y.empty())
    throw DataError(fmt::format("{}:1:{}: has a '{}' column with test rows, but a separate test file was given too",
                                path, column_number(out.header, options.split_column), options.split_column));
  // Line numbers: data rows in file order (blank lines are skipped by the parser,
  // so recount them here in the same way).
  long line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + pos, end - pos);
    ++line_no;
    if (line_no > 1 && !trim(line).empty()) out.lines.push_back(line_no);
    pos = end + 1;
  }
  out.rows = std::move(parsed.train);
  return out;
}
}  // namespace

TrainTest read_train_test(const std::string& train_path, const std::string& test_path, const CsvOptions& options) {
  RawRows train_raw, test_raw;
  if (test_path.empty()) {
    FileText file = read_file(train_path);
    ParsedCsv parsed = parse_csv(file.view(), train_path, options);
    std::vector<std::string> header = header_columns(file.view());
    size_t split_col = column_number(header, options.split_column);
    if (!parsed.has_split)
      throw DataError(fmt::format("{}:1:{}: no '{}' column and no --test file: give one or the other", train_path,
                                  split_col, options.split_column));
    for (auto [raw, which] : {std::pair{&parsed.train, "train"}, std::pair{&parsed.test, "test"}})
      if (raw->y.empty())
        throw DataError(fmt::format("{}:1:{}: no rows with '{}' in column '{}'", train_path, split_col, which,
                                    options.split_column));
    train_raw = std::move(parsed.train);
    test_raw = std::move(parsed.test);
  } else {
    SingleSplit train = parse_single_split(train_path, options);
    SingleSplit test = parse_single_split(test_path, options);
    check_same_features(train.rows.feature_names, test.rows.feature_names, test.header, test_path);
    remap_to_train_tasks(test.rows, train.rows.task_names, test_path, test.lines, test.header, options.task_column);
    train_raw = std::move(train.rows);
    test_raw = std::move(test.rows);
  }
  TrainTest out{make_dataset(train_raw, train_path), make_dataset(test_raw, test_path.empty() ? train_path : test_path)};
  return out;
}

Dataset read_with_tasks_of(const std::string& path, const Dataset& train, const CsvOptions& options) {
  SingleSplit file = parse_single_split(path, options);
  check_same_features(train.feature_names, file.rows.feature_names, file.header, path);
  remap_to_train_tasks(file.rows, train.task_names, path, file.lines, file.header, options.task_column);
  return make_dataset(file.rows, path);
}

}  // namespace mtif
