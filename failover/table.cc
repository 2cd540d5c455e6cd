#include "failover/table.h"

namespace sipedge::failover {

TableBuilder::TableBuilder(const Table* prev) : t_(std::make_unique<Table>()) {
    if (prev != nullptr) {
        t_->trunks_ = prev->trunks_;  // shares every unchanged trunk
        t_->version_ = prev->version_;
    }
}

void TableBuilder::set(std::shared_ptr<const TrunkRoutes> routes) {
    const uint32_t id = routes->trunk_id;
    if (id >= t_->trunks_.size()) t_->trunks_.resize(size_t(id) + 1);
    t_->trunks_[id] = std::move(routes);
}

void TableBuilder::remove(uint32_t trunk_id) {
    if (trunk_id < t_->trunks_.size()) t_->trunks_[trunk_id].reset();
}

std::unique_ptr<const Table> TableBuilder::build() {
    t_->version_++;
    std::unique_ptr<const Table> out(t_.release());
    t_ = std::make_unique<Table>();
    return out;
}

}  // namespace sipedge::failover
