#include "kafka/client_conf.h"

#include <utility>

#include "common/error.h"

namespace clickflow::kafka {

ClientConf::ClientConf(std::string kind) : kind_(std::move(kind)), conf_(rd_kafka_conf_new()) {}

ClientConf::~ClientConf() {
  if (conf_) rd_kafka_conf_destroy(conf_);
}

void ClientConf::Set(const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf_, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    throw Error("kafka " + kind_ + " config " + key + ": " + err);
  }
}

rd_kafka_t* ClientConf::NewClient(rd_kafka_type_t type) {
  char err[512];
  rd_kafka_t* client = rd_kafka_new(type, conf_, err, sizeof err);
  if (!client) throw Error("cannot create the Kafka " + kind_ + ": " + err);
  conf_ = nullptr;  // the client owns it now
  return client;
}

}  // namespace clickflow::kafka
