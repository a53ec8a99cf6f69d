#include "examples/ember/cli.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "io/file.h"
#include "nn/checkpoint.h"

namespace ember::tool {

Cli::Cli(const char* command, const char* summary, int argc, char** argv) : command_(command), summary_(summary) {
  for (int i = 0; i < argc; ++i) {
    const char* eq = std::strchr(argv[i], '=');
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      help_ = true;
    } else if (std::strncmp(argv[i], "--", 2) == 0 && eq) {  // --name=value
      args_.emplace_back(static_cast<const char*>(argv[i]), eq);
      args_.emplace_back(eq + 1);
    } else {
      args_.push_back(argv[i]);
    }
  }
  used_.assign(args_.size(), false);
}

const char* Cli::find(const char* name) {
  int seen = 0;
  for (const std::string& a : args_) seen += a == name;
  if (seen > 1) error(std::string(name) + " is given " + std::to_string(seen) + " times; give it once");
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

size_t Cli::bytes(const char* name, const char* metavar, const char* help) {
  opts_.push_back({name, metavar, help, "", false, false});
  const char* v = find(name);
  if (!v) return 0;
  static const struct { const char* unit; double scale; } kUnits[] = {
      {"", 1}, {"B", 1}, {"K", 1024.0}, {"KiB", 1024.0}, {"kB", 1e3}, {"KB", 1e3}, {"M", 1048576.0},
      {"MiB", 1048576.0}, {"MB", 1e6}, {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"GB", 1e9}};
  char* end = nullptr;
  const double x = std::strtod(v, &end);
  double scale = 0.0;
  for (const auto& u : kUnits)
    if (end != v && std::strcmp(end, u.unit) == 0) scale = u.scale;
  const double b = x * scale;
  // At most 1 TiB: more is a typo on the machines ember runs on (and size_t on 32-bit).
  const double most = sizeof(size_t) >= 8 ? 1099511627776.0 : 4294967295.0;
  if (!(b >= 1.0 && b <= most) || (v[0] < '0' || v[0] > '9')) {
    error(std::string(name) + ": '" + v + "' is not a size (a number of bytes with an optional unit: 500000, "
          "64MiB, 1.5GiB, 200MB)");
    return 0;
  }
  return static_cast<size_t>(b);
}

bool Cli::flag(const char* name, const char* help) {
  opts_.push_back({name, "", help, "", true, false});
  bool found = false;
  for (size_t i = 0; i < args_.size(); ++i)
    if (args_[i] == name) {
      if (found) error(std::string(name) + " is given twice; give it once");
      found = used_[i] = true;
    }
  return found;
}

const char* Cli::input(const char* name, const char* metavar, const char* help, const char* def) {
  const char* v = text(name, metavar, help, def);
  if (*v) files_.push_back({name, v, ""});
  return v;
}

const char* Cli::positional_input(const char* metavar, const char* help) {
  opts_.push_back({metavar, "", help, "", false, true});
  for (size_t i = 0; i < args_.size(); ++i) {
    if (used_[i] || args_[i].compare(0, 2, "--") == 0) continue;
    used_[i] = true;
    files_.push_back({metavar, args_[i], ""});
    return args_[i].c_str();
  }
  if (!help_) error(std::string(metavar) + " is required");
  return "";
}

const char* Cli::output(const char* name, const char* metavar, const char* help, const char* def, const char* exts) {
  const char* v = text(name, metavar, help, def);
  if (*v) files_.push_back({name, v, exts});
  return v;
}

namespace {

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() > end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return a == b;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

}  // namespace

// Outputs: the right kind of name, not an input, never a non-checkpoint replaced by a
// checkpoint; then their folders made and a trial write, so that a bad path fails before the
// command's work rather than after it.
bool Cli::check_files() {
  for (const File& out : files_) {
    if (out.exts.empty()) continue;
    const std::string& p = out.path;
    bool ext_ok = false;
    std::string list;
    for (size_t at = 0; at < out.exts.size();) {
      size_t end = out.exts.find(' ', at);
      if (end == std::string::npos) end = out.exts.size();
      const std::string ext = out.exts.substr(at, end - at);
      ext_ok = ext_ok || ends_with(p, ext);
      list += (list.empty() ? "" : " or ") + ext;
      at = end + 1;
    }
    if (!ext_ok) return error(out.option + " " + p + ": the name must end in " + list), false;
    for (const File& in : files_)
      if (in.exts.empty() && same_file(in.path, p))
        return error(out.option + " " + p + " is also " + in.option + ": a command never writes over its input"), false;
    const FileKind kind = file_kind(p.c_str());
    if (kind == FileKind::directory) return error(out.option + " " + p + " is a folder"), false;
    if (kind == FileKind::other) return error(out.option + " " + p + " is not a regular file"), false;
    if (ends_with(p, ".ember") && kind == FileKind::regular && !nn::is_checkpoint_file(p.c_str()))
      return error(out.option + " " + p + " exists and is not an ember checkpoint; it is never replaced by one"), false;
    for (size_t slash = p.find('/', 1); slash != std::string::npos; slash = p.find('/', slash + 1))
      if (::mkdir(p.substr(0, slash).c_str(), 0777) != 0 && errno != EEXIST)
        return error(out.option + ": cannot create the folder " + p.substr(0, slash) + ": " + std::strerror(errno)),
               false;
    AtomicWriter probe;  // its temp file is removed again; the output itself is not touched
    const Status s = probe.open(p.c_str());
    if (!s.is_ok()) return error(out.option + ": " + s.message()), false;
  }
  return true;
}

void Cli::usage() const {
  std::string positional;  // options read by positional_input(): named without "--"
  for (const Opt& o : opts_)
    if (o.name.compare(0, 2, "--") != 0) positional += " " + o.name;
  std::printf("usage: ember %s [options]%s\n  %s\n\noptions:\n", command_.c_str(), positional.c_str(), summary_.c_str());
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
  if (error_.empty()) check_files();
  if (!error_.empty()) {
    std::fprintf(stderr, "ember %s: %s\n", command_.c_str(), error_.c_str());
    return false;
  }
  return true;
}

}  // namespace ember::tool
