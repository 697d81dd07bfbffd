#include "common/failpoint.h"

#ifdef CLICKFLOW_FAILPOINTS
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

namespace clickflow {
namespace {

struct Armed {
  std::string name;  // empty: no failpoint armed
  long hit_on = 1;   // the N-th time the point is reached
  std::atomic<long> hits{0};
};

Armed& ArmedFromEnv() {
  static Armed* armed = [] {
    auto* a = new Armed;  // never destroyed: points may be reached during static destruction
    const char* env = std::getenv("CLICKFLOW_FAILPOINT");
    if (!env) return a;
    a->name = env;
    if (const auto at = a->name.find('@'); at != std::string::npos) {
      a->hit_on = std::atol(a->name.c_str() + at + 1);
      a->name.resize(at);
    }
    return a;
  }();
  return *armed;
}

}  // namespace

void Failpoint(const char* name) {
  Armed& armed = ArmedFromEnv();
  if (armed.name.empty() || armed.name != name) return;
  if (armed.hits.fetch_add(1) + 1 != armed.hit_on) return;
  spdlog::warn("failpoint {}: killing the process", name);
  spdlog::default_logger()->flush();
  std::raise(SIGKILL);
}

}  // namespace clickflow
#endif
