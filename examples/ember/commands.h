// The `ember` subcommands; each returns the process exit code (0 ok, 1 failed, 2 bad usage).
#pragma once

namespace ember::tool {

int cmd_train(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_reconstruct(int argc, char** argv);
int cmd_interpolate(int argc, char** argv);
int cmd_traverse(int argc, char** argv);
int cmd_latent_map(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_semisup(int argc, char** argv);
int cmd_export(int argc, char** argv);

}  // namespace ember::tool
