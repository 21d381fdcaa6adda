/* fleetyard broker plugin: the internal link's names, shared with fleetyard-server (server/link.c).
 *
 * The server's client connects over the unix-socket listener with client id and username
 * FY_LINK_CLIENT_ID and the per-start secret (plugin_opt_link_secret) as password. It may
 * publish and subscribe anywhere; its messages on FY_LINK_CONTROL_PREFIX topics are consumed by
 * the plugin and reach no subscriber. Devices can never take this client id: client ids
 * starting with '$' are refused (AWS reserves them).
 */
#ifndef FY_BROKER_PLUGIN_LINK_PROTO_H
#define FY_BROKER_PLUGIN_LINK_PROTO_H

#define FY_LINK_CLIENT_ID      "$fleetyard-link"
#define FY_LINK_CONTROL_PREFIX "$fleetyard/"
#define FY_LINK_TOPIC_REFRESH  "$fleetyard/refresh" /* re-check every connection's rights now */

#endif
