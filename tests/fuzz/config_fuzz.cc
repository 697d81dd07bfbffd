// libFuzzer target: ParseConfig on YAML text (clickflow.yaml). Bad input must end in
// clickflow::Error (the message naming the file and key); any other exception escaping is a
// finding. An accepted config must survive ToYaml -> ParseConfig unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/config.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace clickflow;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Config config;
  try {
    config = ParseConfig(text, "fuzz.yaml", "/fuzz");
  } catch (const Error&) {
    return 0;
  }
  // Defaults are relative ("./var"); LoadConfig makes them absolute before anything renders
  // the config, so do the same here (a relative path would resolve against /fuzz once more).
  if (config.data_dir.is_relative()) config.data_dir = "/fuzz" / config.data_dir;
  const std::string yaml = ToYaml(config);
  try {
    const Config again = ParseConfig(yaml, "fuzz.yaml", "/fuzz");
    if (ToYaml(again) != yaml) {
      std::fprintf(stderr, "ToYaml round trip changed the config:\n%s\n---\n%s\n", yaml.c_str(), ToYaml(again).c_str());
      std::abort();
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "ToYaml output does not parse back: %s\n%s\n", e.what(), yaml.c_str());
    std::abort();
  }
  return 0;
}
