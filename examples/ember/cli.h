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
  const char* find(const char* name);
  void usage() const;

  std::string command_, summary_;
  std::vector<std::string> args_;
  std::vector<bool> used_;
  std::vector<Opt> opts_;
  std::string error_;
  bool help_ = false;
};

}  // namespace ember::tool
