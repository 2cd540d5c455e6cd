#include "control/snmp_trap.h"

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace sipedge::ctl {

namespace {

// net-snmp's library state: set up once, without reading snmp.conf files or
// loading MIBs (we only send numeric OIDs), and without persistent files.
void init_netsnmp_once() {
    static bool done = false;
    if (done) return;
    done = true;
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    setenv("MIBS", "", 0);  // no MIB parsing unless the operator asks for it
    init_snmp("sipedge");
}

std::vector<oid> parse_oid(const char* dotted) {
    std::vector<oid> out;
    oid v = 0;
    for (const char* p = dotted;; p++) {
        if (*p == '.' || *p == 0) {
            out.push_back(v);
            v = 0;
            if (*p == 0) break;
        } else {
            v = v * 10 + oid(*p - '0');
        }
    }
    return out;
}

bool add_string(netsnmp_pdu* pdu, const char* name, const std::string& v) {
    const std::vector<oid> o = parse_oid(name);
    return snmp_pdu_add_variable(pdu, o.data(), o.size(), ASN_OCTET_STR,
                                 reinterpret_cast<const u_char*>(v.data()), v.size()) != nullptr;
}

}  // namespace

Result<std::unique_ptr<TrapSender>> TrapSender::open(const std::string& ip, uint16_t port,
                                                    const std::string& community) {
    init_netsnmp_once();
    std::unique_ptr<TrapSender> t(new TrapSender());
    t->peer_ = (ip.find(':') != std::string::npos ? "udp6:[" + ip + "]" : "udp:" + ip) + ":" + std::to_string(port);
    netsnmp_session s;
    snmp_sess_init(&s);
    s.version = SNMP_VERSION_2c;
    std::vector<char> peer(t->peer_.begin(), t->peer_.end());
    peer.push_back(0);
    s.peername = peer.data();
    std::vector<u_char> comm(community.begin(), community.end());
    s.community = comm.data();
    s.community_len = comm.size();
    t->sess_ = snmp_sess_open(&s);  // copies peername and community
    std::fill(comm.begin(), comm.end(), u_char(0));
    if (!t->sess_) return err(EIO, "snmp-trap-receiver " + t->peer_ + ": cannot open an SNMP session");
    return t;
}

TrapSender::~TrapSender() {
    if (sess_) snmp_sess_close(sess_);
}

Status TrapSender::send_registration_failures(const TrapInfo& t, uint32_t uptime_cs) {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_TRAP2);
    if (!pdu) return err(ENOMEM, "snmp trap: no memory for a PDU");
    static const oid uptime_oid[] = {1, 3, 6, 1, 2, 1, 1, 3, 0};
    static const oid trap_oid[] = {1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
    const u_long ticks = uptime_cs;
    const std::vector<oid> trap = parse_oid(oid_registration_failures);
    const std::vector<oid> count_oid = parse_oid(oid_failure_count);
    const u_long count = t.failures;
    bool ok = snmp_pdu_add_variable(pdu, uptime_oid, OID_LENGTH(uptime_oid), ASN_TIMETICKS,
                                    reinterpret_cast<const u_char*>(&ticks), sizeof ticks) != nullptr;
    ok = ok && snmp_pdu_add_variable(pdu, trap_oid, OID_LENGTH(trap_oid), ASN_OBJECT_ID,
                                     reinterpret_cast<const u_char*>(trap.data()), trap.size() * sizeof(oid)) != nullptr;
    ok = ok && add_string(pdu, oid_trunk_name, t.trunk);
    ok = ok && add_string(pdu, oid_identity, t.identity);
    ok = ok && add_string(pdu, oid_server, t.server);
    ok = ok && snmp_pdu_add_variable(pdu, count_oid.data(), count_oid.size(), ASN_UNSIGNED,
                                     reinterpret_cast<const u_char*>(&count), sizeof count) != nullptr;
    ok = ok && add_string(pdu, oid_failure_reason, t.reason);
    if (!ok) {
        snmp_free_pdu(pdu);
        return err(ENOMEM, "snmp trap: cannot build the PDU");
    }
    if (snmp_sess_send(sess_, pdu) == 0) {  // the library frees the PDU only on success
        snmp_free_pdu(pdu);
        return err(EIO, "snmp trap to " + peer_ + ": send failed");
    }
    return Ok{};
}

}  // namespace sipedge::ctl
