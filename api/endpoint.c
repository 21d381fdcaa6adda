/* DescribeEndpoint: where devices connect. fleetyard serves MQTT (data, ATS, jobs) on its broker
 * host; it has no credential provider. */
#include <string.h>

#include "api/api_int.h"
#include "api/routes.h"

static const char *const served_types[] = {"iot:Data-ATS", "iot:Data", "iot:Jobs"};

/* GET /endpoint?endpointType=T (default iot:Data, as AWS). */
static fy_err h_describe_endpoint(struct api_req *req)
{
    const char *type = api_query(req, "endpointType");
    if (!type) {
        type = "iot:Data";
    }
    for (size_t i = 0; i < sizeof(served_types) / sizeof(served_types[0]); i++) {
        if (strcmp(type, served_types[i]) == 0) {
            return api_reply(req, json_pack("{s:s}", "endpointAddress", req->srv->mqtt_host));
        }
    }
    if (strcmp(type, "iot:CredentialProvider") == 0) {
        return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                       "fleetyard does not serve the iot:CredentialProvider endpoint (no role "
                       "aliases or temporary credentials); devices use their certificates");
    }
    return fy_fail(&req->em, FY_ERR_INVALID_REQUEST,
                   "Invalid endpointType '%.64s': expected iot:Data, iot:Data-ATS, iot:Jobs or "
                   "iot:CredentialProvider",
                   type);
}

const struct api_route api_routes_endpoint[] = {
    {FY_SVC_IOT, "GET", "/endpoint", h_describe_endpoint, "DescribeEndpoint"},
    {0, NULL, NULL, NULL, NULL},
};
