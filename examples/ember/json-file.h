// JsonFile: the tool's one way to write a figures file (ember eval --json, semisup --json).
//
//   JsonFile j(path);                        // opens; the top-level object starts
//   j.text("model", arch).integer("n", n).number("is", is);
//   j.numbers("per_class", acc, 10);         // [0.990000, ...]
//   j.begin_object("nn_dist").number("min", m).end_object();   // nested: on one line
//   return j.close();                        // "}\n"; says which file could not be written
//
// Top-level members go one per line ("  \"key\": value"), nested objects and arrays on one
// line; numbers as %.6f, and null where a figure was not computed (or is not finite).
// Strings are escaped, so a path with quotes or control bytes still gives valid JSON.
#pragma once
#include <cstdio>
#include <string>

#include "core/status.h"

namespace ember::tool {

class JsonFile {
 public:
  explicit JsonFile(const std::string& path);
  ~JsonFile();
  JsonFile(const JsonFile&) = delete;
  JsonFile& operator=(const JsonFile&) = delete;

  JsonFile& text(const char* key, const char* value);
  JsonFile& text(const char* key, const std::string& value) { return text(key, value.c_str()); }
  JsonFile& integer(const char* key, long long value);
  // present = false (or a value that is not finite) writes null.
  JsonFile& number(const char* key, double value, bool present = true);
  // %g, for settings (rates, decays) rather than figures.
  JsonFile& setting(const char* key, double value);
  JsonFile& numbers(const char* key, const double* values, int n);
  JsonFile& integers(const char* key, const int* values, int n);
  JsonFile& null(const char* key);
  // An object as a member (key) or as an array element (key = nullptr); on one line.
  JsonFile& begin_object(const char* key) { return open(key, "{"); }
  JsonFile& end_object() { return shut("}"); }
  JsonFile& begin_array(const char* key) { return open(key, "["); }
  JsonFile& end_array() { return shut("]"); }
  // Array elements (inside begin_array).
  JsonFile& element(double value);

  // Ends the top-level object and closes the file; an error if anything could not be written.
  Status close();

 private:
  void member(const char* key);  // separator, indentation and "key": (key may be null)
  void raw(const char* s);
  JsonFile& open(const char* key, const char* bracket);
  JsonFile& shut(const char* bracket);

  static constexpr int kMaxDepth = 8;
  std::string path_;
  std::FILE* f_ = nullptr;
  int depth_ = 0;               // 0: the top-level object
  bool first_[kMaxDepth] = {};  // no member yet at this depth
  bool failed_ = false;
};

}  // namespace ember::tool
