// A tiny command-line reader for the `ember` tool.
//
// A command reads its options one by one; each read also registers the option with its
// help text, so `--help` lists exactly what the command reads, and an option nobody read
// is reported as unknown:
//
//   Cli cli("sample", "draw samples from a trained model", argc, argv);
//   const char* model = cli.text("--model", "FILE", "checkpoint written by `ember train`", nullptr);
//   int n = cli.integer("--n", "N", "how many samples", 64, 1, 10000);
//   if (!cli.finish()) return cli.exit_code();   // --help, a missing or bad option
//
// `--name value` and `--name=value` both work; an option given twice is an error. Files the
// command reads are declared with input() and files it writes with output(): finish() refuses
// an output whose name does not end in one of its extensions, an output that is one of the
// inputs, and a .ember output onto a file that is not an ember checkpoint; then it makes the
// outputs' missing folders and checks that each can be written, before any work.
#pragma once
#include <string>
#include <vector>

namespace ember::tool {

class Cli {
 public:
  Cli(const char* command, const char* summary, int argc, char** argv);

  // nullptr default = required (then "" when missing; finish() reports it).
  const char* text(const char* name, const char* metavar, const char* help, const char* def);
  int integer(const char* name, const char* metavar, const char* help, int def, int lo, int hi);
  float real(const char* name, const char* metavar, const char* help, float def, float lo, float hi);
  bool flag(const char* name, const char* help);
  // A byte count: digits with an optional unit, KiB MiB GiB (or K M G: the same, powers of
  // 1024) or kB MB GB (powers of 1000): "64MiB", "1.5GiB", "500000". 0 = not given.
  size_t bytes(const char* name, const char* metavar, const char* help);
  // A file the command reads (as text()).
  const char* input(const char* name, const char* metavar, const char* help, const char* def);
  // The one argument that is not an option (`ember import FILE`): a file the command reads.
  // Read it after every option, so that the options' values are taken already.
  const char* positional_input(const char* metavar, const char* help);
  // A file the command writes; exts: the accepted endings, space-separated (".png .svg").
  const char* output(const char* name, const char* metavar, const char* help, const char* def, const char* exts);
  // Whether the option was given (after reading it).
  bool given(const char* name) const;
  void error(const std::string& message);  // a semantic error found by the command

  // Call after every read: prints usage for --help, or the first error. false: stop.
  bool finish();
  int exit_code() const { return help_ ? 0 : 2; }

 private:
  struct Opt {
    std::string name, metavar, help, def;
    bool flag = false, required = false;
  };
  struct File {
    std::string option, path, exts;  // exts empty: an input
  };
  bool check_files();
  const char* find(const char* name);
  void usage() const;

  std::string command_, summary_;
  std::vector<std::string> args_;
  std::vector<bool> used_;
  std::vector<Opt> opts_;
  std::vector<File> files_;
  std::string error_;
  bool help_ = false;
};

}  // namespace ember::tool
