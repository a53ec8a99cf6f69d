// JsonFile; see json-file.h.
#include "examples/ember/json-file.h"

#include <cmath>

namespace ember::tool {

JsonFile::JsonFile(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "w")) {
  failed_ = f_ == nullptr;
  first_[0] = true;
  raw("{");
}

JsonFile::~JsonFile() {
  if (f_) std::fclose(f_);
}

void JsonFile::raw(const char* s) {
  if (f_ && std::fputs(s, f_) < 0) failed_ = true;
}

void JsonFile::member(const char* key) {
  if (depth_ == 0) raw(first_[0] ? "\n  " : ",\n  ");
  else if (!first_[depth_]) raw(", ");
  first_[depth_] = false;
  if (!key) return;
  raw("\"");
  raw(key);
  raw("\": ");
}

JsonFile& JsonFile::text(const char* key, const char* value) {
  member(key);
  raw("\"");
  for (const unsigned char* c = reinterpret_cast<const unsigned char*>(value ? value : ""); *c; ++c) {
    char buf[8];
    if (*c == '"' || *c == '\\') std::snprintf(buf, sizeof buf, "\\%c", *c);
    else if (*c < 0x20) std::snprintf(buf, sizeof buf, "\\u%04x", *c);
    else buf[0] = static_cast<char>(*c), buf[1] = 0;
    raw(buf);
  }
  raw("\"");
  return *this;
}

JsonFile& JsonFile::integer(const char* key, long long value) {
  member(key);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld", value);
  raw(buf);
  return *this;
}

JsonFile& JsonFile::number(const char* key, double value, bool present) {
  member(key);
  char buf[64];
  if (present && std::isfinite(value)) std::snprintf(buf, sizeof buf, "%.6f", value);
  else std::snprintf(buf, sizeof buf, "null");
  raw(buf);
  return *this;
}

JsonFile& JsonFile::setting(const char* key, double value) {
  member(key);
  char buf[64];
  std::snprintf(buf, sizeof buf, std::isfinite(value) ? "%g" : "null", value);
  raw(buf);
  return *this;
}

JsonFile& JsonFile::element(double value) { return number(nullptr, value); }

JsonFile& JsonFile::numbers(const char* key, const double* values, int n) {
  begin_array(key);
  for (int i = 0; i < n; ++i) element(values[i]);
  return end_array();
}

JsonFile& JsonFile::integers(const char* key, const int* values, int n) {
  begin_array(key);
  for (int i = 0; i < n; ++i) integer(nullptr, values[i]);
  return end_array();
}

JsonFile& JsonFile::null(const char* key) {
  member(key);
  raw("null");
  return *this;
}

JsonFile& JsonFile::open(const char* key, const char* bracket) {
  member(key);
  raw(bracket);
  if (depth_ + 1 < kMaxDepth) first_[++depth_] = true;
  else failed_ = true;  // deeper than any figures file needs
  return *this;
}

JsonFile& JsonFile::shut(const char* bracket) {
  raw(bracket);
  if (depth_ > 0) --depth_;
  return *this;
}

Status JsonFile::close() {
  raw("\n}\n");
  if (f_ && std::fclose(f_) != 0) failed_ = true;
  f_ = nullptr;
  if (failed_ || depth_ != 0) return Status::error(Code::io_error, "cannot write %s", path_.c_str());
  return Status::ok();
}

}  // namespace ember::tool
