/* fleetyard api: the route tables of every domain, collected by api/routes.c. */
#ifndef FY_API_ROUTES_H
#define FY_API_ROUTES_H

#include "api/api.h"

extern const struct api_route api_routes_admin[];
extern const struct api_route api_routes_things[];
extern const struct api_route api_routes_thing_types[];
extern const struct api_route api_routes_thing_groups[];
extern const struct api_route api_routes_tags[];
extern const struct api_route api_routes_endpoint[];
extern const struct api_route api_routes_principals[];
extern const struct api_route api_routes_certificates[];
extern const struct api_route api_routes_policies[];
extern const struct api_route api_routes_shadows[];
extern const struct api_route api_routes_messages[];
extern const struct api_route api_routes_index[];
extern const struct api_route api_routes_dynamic_groups[];
extern const struct api_route api_routes_fleet_metrics[];

/* Finds the route for (svc, method, path); fills req->params. Returns FY_ERR_OK, or
 * FY_ERR_UNKNOWN_OPERATION / FY_ERR_METHOD_NOT_ALLOWED with req->em filled. svc may be
 * FY_SVC__COUNT to search every service in order (unsigned requests with auth off). */
FY_NODISCARD fy_err api_route_find(struct api_req *req,
                                   enum fy_service svc,
                                   const char *raw_path,
                                   const struct api_route **out);

#endif
