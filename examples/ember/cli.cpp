#include "examples/ember/cli.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ember::tool {

Cli::Cli(const char* command, const char* summary, int argc, char** argv) : command_(command), summary_(summary) {
  for (int i = 0; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) help_ = true;
    else args_.push_back(argv[i]);
  }
  used_.assign(args_.size(), false);
}

const char* Cli::find(const char* name) {
  for (size_t i = 0; i < args_.size(); ++i) {
    if (args_[i] != name) continue;
    used_[i] = true;
    if (i + 1 >= args_.size() || (args_[i + 1].size() > 2 && args_[i + 1].compare(0, 2, "--") == 0)) {
      error(std::string(name) + " needs a value");
      return nullptr;
    }
    used_[i + 1] = true;
    return args_[i + 1].c_str();
  }
  return nullptr;
}

bool Cli::given(const char* name) const {
  for (const std::string& a : args_)
    if (a == name) return true;
  return false;
}

void Cli::error(const std::string& message) {
  if (error_.empty()) error_ = message;
}

const char* Cli::text(const char* name, const char* metavar, const char* help, const char* def) {
  opts_.push_back({name, metavar, help, def ? def : "", false, def == nullptr});
  const char* v = find(name);
  if (!v && !def && !help_) error(std::string(name) + " " + metavar + " is required");
  return v ? v : def ? def : "";  // never null: finish() stops a run that lacks it
}

int Cli::integer(const char* name, const char* metavar, const char* help, int def, int lo, int hi) {
  opts_.push_back({name, metavar, help, std::to_string(def), false, false});
  const char* v = find(name);
  if (!v) return def;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*v == 0 || *end != 0 || x < lo || x > hi) {
    error(std::string(name) + ": '" + v + "' is not an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    return def;
  }
  return static_cast<int>(x);
}

float Cli::real(const char* name, const char* metavar, const char* help, float def, float lo, float hi) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", def);
  opts_.push_back({name, metavar, help, buf, false, false});
  const char* v = find(name);
  if (!v) return def;
  char* end = nullptr;
  const float x = std::strtof(v, &end);
  if (*v == 0 || *end != 0 || !(x >= lo && x <= hi)) {
    std::snprintf(buf, sizeof buf, "%g..%g", lo, hi);
    error(std::string(name) + ": '" + v + "' is not a number in " + buf);
    return def;
  }
  return x;
}

bool Cli::flag(const char* name, const char* help) {
  opts_.push_back({name, "", help, "", true, false});
  for (size_t i = 0; i < args_.size(); ++i)
    if (args_[i] == name) return used_[i] = true;
  return false;
}

void Cli::usage() const {
  std::printf("usage: ember %s [options]\n  %s\n\noptions:\n", command_.c_str(), summary_.c_str());
  for (const Opt& o : opts_) {
    std::string left = "  " + o.name + (o.metavar.empty() ? "" : " " + o.metavar);
    std::printf("%-28s %s", left.c_str(), o.help.c_str());
    if (o.required) std::printf(" (required)");
    else if (!o.flag && !o.def.empty()) std::printf(" [%s]", o.def.c_str());
    std::printf("\n");
  }
}

bool Cli::finish() {
  if (help_) {
    usage();
    return false;
  }
  for (size_t i = 0; i < args_.size() && error_.empty(); ++i)
    if (!used_[i]) error("unknown option '" + args_[i] + "' (see ember " + command_ + " --help)");
  if (!error_.empty()) {
    std::fprintf(stderr, "ember %s: %s\n", command_.c_str(), error_.c_str());
    return false;
  }
  return true;
}

}  // namespace ember::tool
