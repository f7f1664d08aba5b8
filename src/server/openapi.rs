//! The OpenAPI 3.1 description of every route, served at `/api/openapi.json`.
//! Written out by hand (no macro crate); a test checks that every route of the
//! router is described and that every described route answers.

use serde_json::{json, Value};

fn error_responses() -> Value {
    json!({
        "400": {"description": "Bad request (bad parameter)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "404": {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    })
}

fn op(summary: &str, description: &str, params: Value, ok: Value) -> Value {
    let mut responses = error_responses();
    if let (Some(r), Some(o)) = (responses.as_object_mut(), ok.as_object()) {
        for (k, v) in o {
            r.insert(k.clone(), v.clone());
        }
    }
    json!({"get": {"summary": summary, "description": description, "parameters": params, "responses": responses}})
}

fn json_ok(schema: Value) -> Value {
    json!({"200": {"description": "OK", "content": {"application/json": {"schema": schema}}}})
}

fn geojson_ok() -> Value {
    json!({"200": {"description": "GeoJSON FeatureCollection (RFC 7946, WGS84)", "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}}})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description, "schema": {"type": "string"}})
}

fn query_param(name: &str, required: bool, description: &str, ty: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": {"type": ty}})
}

/// POST of a GeoJSON layer upload.
fn layer_upload(summary: &str, description: &str, param: Value) -> Value {
    let err = error_responses()["400"].clone();
    json!({"post": {
        "summary": summary,
        "description": description,
        "parameters": [param, {"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}, "description": "1-200 visible ASCII characters"}],
        "requestBody": {"required": true, "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}}},
        "responses": {
            "201": {"description": "Stored and applied", "content": {"application/json": {"schema": {"type": "object"}}}},
            "200": {"description": "Replayed: stored before under this key", "content": {"application/json": {"schema": {"type": "object"}}}},
            "401": err, "404": error_responses()["404"].clone(), "409": err, "413": err, "422": err
        }
    }})
}

/// GET, PUT and DELETE of one scenario.
fn scenario_item() -> Value {
    let name = json!([path_param(
        "name",
        "scenario name: letters, digits, '-' and '_' (1-64); baseline for the premises as loaded"
    )]);
    let mut v = op(
        "One scenario",
        "A saved scenario with its edits.",
        name.clone(),
        json_ok(json!({"$ref": "#/components/schemas/Scenario"})),
    );
    v["put"] = json!({
        "summary": "Save a scenario",
        "description": "Create or replace a scenario: {description?, edits: [Edit]}. Every edit is checked against the loaded premises first (errors name the edit); the file is written atomically.",
        "parameters": name,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["edits"], "properties": {"description": {"type": "string"}, "edits": {"type": "array", "items": {"$ref": "#/components/schemas/Edit"}}}}}}},
        "responses": {"200": {"description": "Saved", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}}}, "400": error_responses()["400"].clone()}
    });
    v["delete"] = json!({
        "summary": "Delete a scenario",
        "parameters": name,
        "responses": {"204": {"description": "Deleted"}, "404": error_responses()["404"].clone()}
    });
    v
}

/// The OpenAPI document, with `format` (and `table`) on every route of the
/// export registry ([`super::export::ROUTES`]).
pub fn document() -> Value {
    let mut doc = described();
    for (pattern, what) in super::export::ROUTES {
        let Some(get) = doc["paths"]
            .get_mut(format!("/api{pattern}"))
            .and_then(|p| p.get_mut("get"))
        else {
            continue;
        };
        match what {
            super::export::Exportable::Tables(tables) => {
                let names: Vec<&str> = tables.iter().map(|t| t.name).collect();
                if let Some(ps) = get["parameters"].as_array_mut() {
                    ps.push(query_param(
                        "format",
                        false,
                        "json (default) | csv | geojson | gpkg: the result as a file, converted from the JSON this role is shown (after disclosure control); GeoJSON in WGS84, GeoPackage in British National Grid (EPSG:27700); rows joined to their area, premises or boundary unit where they have one",
                        "string",
                    ));
                    ps.push(query_param(
                        "table",
                        false,
                        &format!(
                            "with format: which of the result's tables (default {}): {}",
                            names[0],
                            names.join(", ")
                        ),
                        "string",
                    ));
                }
                if let Some(ok) = get["responses"]["200"]["content"].as_object_mut() {
                    for ct in [
                        "text/csv",
                        "application/geo+json",
                        "application/geopackage+sqlite3",
                    ] {
                        ok.entry(ct)
                            .or_insert(json!({"schema": {"type": "string"}}));
                    }
                }
            }
            super::export::Exportable::Refused(why) => {
                get["responses"]["403"] = json!({"description": format!("with format=csv, geojson or gpkg: refused for every role ({why})"), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
            }
        }
    }
    doc
}

fn described() -> Value {
    let count = json!({"oneOf": [{"type": "number"}, {"type": "string", "enum": ["<10", "[c]"]}], "description": "A count after disclosure control: for the public a number rounded to 5, \"<10\", or \"[c]\" where the audit withheld it against differencing; exact for planners"});
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "needmap API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Need maps, equity tables, roll-ups, premises and boundaries. Anonymous requests get disclosure-controlled aggregates only: never a referral point; counts 0-9 as \"<10\", other counts rounded to the nearest 5, rates withheld where the count is. Result routes also answer format=csv, geojson or gpkg (and table=): the same values as a file, see each route's parameters; referral points are never exported."
        },
        "paths": {
            "/api/health": op("Health", "Liveness and the number of areas loaded.", json!([]), json_ok(json!({"type": "object", "properties": {"status": {"type": "string"}, "areas": {"type": "integer"}}}))),
            "/api/meta": op("Region metadata", "Region name, WGS84 bounding box, layers, groups, periods and roll-up levels.", json!([]), json_ok(json!({"type": "object"}))),
            "/api/openapi.json": op("This document", "The OpenAPI 3.1 description of the API.", json!([]), json_ok(json!({"type": "object"}))),
            "/api/areas": {"get": {
                "summary": "Areas with need attributes",
                "description": "Every small area as GeoJSON with area_id, name, population, referrals, rate_per_1000, need_score, simd_rank, simd_decile, simd_quintile and referrals_<group>. With geometry=false: {\"areas\": [properties...]} in feature order. Counts protected for the public; exact for planners and data stewards.",
                "parameters": [query_param("geometry", false, "false for attributes only", "boolean")],
                "responses": {
                    "200": {"description": "OK", "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/FeatureCollection"}}, "application/json": {"schema": {"type": "object"}}}},
                    "400": error_responses()["400"].clone()
                }
            }},
            "/api/areas/{id}": op("One area", "An area's need attributes, parent codes, referrals by group and indicators.", json!([path_param("id", "area code, e.g. S01006506")]), json_ok(json!({"$ref": "#/components/schemas/AreaDetail"}))),
            "/api/equity": op("Equity table", "Areas, population, referrals and rate per 1,000 by SIMD quintile (1 = most deprived), and the total.", json!([]), json_ok(json!({"type": "object", "properties": {"rows": {"type": "array"}, "total": {"type": "object"}}}))),
            "/api/rollup": op("Roll-up", "The need map rolled up to a parent code column (e.g. ca_code) or, by area-weighted overlay, to a boundary set.", json!([query_param("to", true, "a roll-up level from /api/meta rollup_levels, or a boundary set name", "string")]), json_ok(json!({"type": "object", "properties": {"level": {"type": "string"}, "units": {"type": "array"}, "unassigned": {"type": "object"}}}))),
            "/api/premises": op("Premises", "Premises as GeoJSON points with kind, services, capacity, provider and OSM opening_hours.", json!([]), geojson_ok()),
            "/api/boundaries": op("Boundary sets", "The names of the boundary sets and their unit counts.", json!([]), json_ok(json!({"type": "object"}))),
            "/api/boundaries/{name}": op("One boundary set", "A boundary set as GeoJSON polygons with boundary_id and name.", json!([path_param("name", "boundary set name")]), geojson_ok()),
            "/api/search": op("Search areas", "Areas whose code or name matches q (case-insensitive): exact code, code prefix, name prefix, then name substring.", json!([query_param("q", true, "text to find (1-100 characters)", "string"), query_param("limit", false, "at most this many results (1-100, default 20)", "integer")]), json_ok(json!({"type": "object", "properties": {"results": {"type": "array"}}}))),
            "/api/access": op("Access to premises", "Per area: nearest premises of a kind, distance and travel time (straight line x 1.3 at 30 km/h), distinct providers within the threshold, choice desert flag, 2SFCA and E2SFCA (capacity per resident); choice-desert population by SIMD quintile.", json!([query_param("kind", true, "premises kind from /api/meta premises_kinds", "string"), query_param("threshold_min", false, "travel-time threshold in minutes (1-180, default 15)", "number"), query_param("desert_below", false, "fewer providers than this is a choice desert (1-50, default 2)", "integer"), query_param("demand", false, "population (default) or need (population x need score / 100)", "string"), query_param("decay", false, "decay of the enhanced score: e2sfca (default), none, step:600=1,1200=0.68, linear:S, exponential:S, gaussian:S (seconds)", "string")]), json_ok(json!({"type": "object"}))),
            "/api/gaps": op("Coverage gaps", "Areas beyond the travel-time threshold of every premises of a kind, ranked by need score (referral counts protected).", json!([query_param("kind", true, "premises kind", "string"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("limit", false, "rows (default 100)", "integer")]), json_ok(json!({"type": "object"}))),
            "/api/premises/{id}/reach": op("Reach of one premises", "Residents, need-weighted residents and referrals (protected) within travel-time bands of a premises, and the SIMD profile of its nearest-premises catchment.", json!([path_param("id", "premises id"), query_param("bands_min", false, "comma-separated minutes, default 10,20,30", "string")]), json_ok(json!({"type": "object"}))),
            "/api/premises/{id}/isochrones": op("Isochrones of one premises", "GeoJSON polygons of the places within each travel-time band (cumulative; largest first), over the road network when configured (100 m raster), else circles at the straight-line speed and circuity.", json!([path_param("id", "premises id"), query_param("bands_min", false, "comma-separated minutes, default 5,10,15", "string")]), geojson_ok()),
            "/api/hours/gap": op("Hours gap", "Per area, the timed referrals that arrived when no premises of the kind within the threshold was open; per premises, the referrals of its nearest-premises catchment that arrived while it was closed; the region's demand and unmet demand by hour of the week (168 slots, Monday 00:00 first, Europe/London). Counts protected; shares from the published counts.", json!([query_param("kind", true, "premises kind", "string"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("group", false, "client group", "string")]), json_ok(json!({"type": "object"}))),
            "/api/hours/access": op("Hours-aware access", "E2SFCA (or the decay given) per area for one hour of a typical week, counting only premises open in that hour (supply x open share), with the number of premises open within the threshold and one colour-scale maximum over all hours.", json!([query_param("kind", true, "premises kind", "string"), query_param("hour", true, "hour of the week, 0 (Monday 00:00) to 167", "integer"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("decay", false, "e2sfca (default) | none | step:600=1,... | linear:S | exponential:S | gaussian:S", "string")]), json_ok(json!({"type": "object"}))),
            "/api/hours/extensions": op("Recommended hour extensions", "Extensions of opening hours (whole hours on a day group, touching present hours or filling a closed day, 07:00-22:00, up to 4 h) ranked across the region by unmet referrals met per week per extra weekly hour, greedily (each counts only referrals not met by those above it), and each premises' best three on their own. Counts protected.", json!([query_param("kind", true, "premises kind", "string"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("group", false, "client group", "string"), query_param("limit", false, "rows (1-200, default 20)", "integer")]), json_ok(json!({"type": "object"}))),
            "/api/areas/{id}/hours": op("An area's week", "For the area panel's week heatmap: premises of the kind open within the threshold in each of the 168 hours of a typical week, and the protected demand by hour of the area's catchment (the areas sharing its nearest premises).", json!([path_param("id", "area code"), query_param("kind", true, "premises kind", "string"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("group", false, "client group", "string")]), json_ok(json!({"type": "object"}))),
            "/api/siting": op("Location-allocation", "Choose sites among premises of the candidate kinds: mclp (most demand within the threshold), p_median (least weighted travel time), p_center (shortest longest trip) or lscp (fewest sites covering all). Every answer has its optimality gap from a Lagrangian bound. Per area: serving site, travel time, covered, newly covered against a baseline kind; coverage by SIMD quintile before and after. With weight=referrals, counts are protected.", json!([query_param("model", true, "mclp | p_median | p_center | lscp", "string"), query_param("candidates", true, "premises kinds, comma-separated", "string"), query_param("p", false, "sites to open (1-500, default 5)", "integer"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number"), query_param("weight", false, "population (default) | need | deprivation | referrals", "string"), query_param("keep", false, "premises ids that must stay open, comma-separated", "string"), query_param("baseline", false, "premises kind already providing the service", "string"), query_param("seed", false, "seed of the search (default 1)", "integer"), query_param("capacitated", false, "mclp only: each site serves at most its premises capacity, demand splittable (max flow)", "boolean")]), json_ok(json!({"type": "object"}))),
            "/api/coterminosity": op("Co-terminosity of two layers", "Layers a and b are boundary sets or `areas`. Intersection matrix by surface and by population (census population of the small areas, apportioned by overlap), per-unit co-terminosity index (share inside the dominant counterpart), splits at or above split_share of a unit (slivers reported apart), fragmentation min(F_a, F_b), geometry problems and overlay fallbacks, and a best-fit lookup of every small area to both layers.", json!([query_param("a", true, "layer: a boundary set or areas", "string"), query_param("b", true, "layer: a boundary set or areas", "string"), query_param("split_share", false, "share of a unit's population below which a piece is not a split (default 0.01)", "number")]), json_ok(json!({"type": "object"}))),
            "/api/coterminosity/splits": op("Split pieces", "The pieces of a's units outside their dominant counterpart in b, as GeoJSON polygons (WGS84) with unit, counterpart, population and share.", json!([query_param("a", true, "layer", "string"), query_param("b", true, "layer", "string"), query_param("split_share", false, "as for /api/coterminosity", "number")]), geojson_ok()),
            "/api/design": op("Boundary designer", "Units of whole small areas nesting in a parent code column, contiguous, within tolerance of the parent's mean unit weight (population or referrals), as co-terminous as possible with the target layer; GeoJSON of the dissolved units with co-terminosity before (of the current set, when named) and after, and a lookup of areas to units.", json!([query_param("parent", true, "parent code column, e.g. council_code", "string"), query_param("target", true, "layer to align with", "string"), query_param("current", false, "the set the proposal would replace", "string"), query_param("tolerance", false, "0.01-0.9 (default 0.1 = ±10 %)", "number"), query_param("balance", false, "population (default) or referrals", "string")]), geojson_ok()),
            "/api/uploads/referrals": {"post": {
                "summary": "Upload a referral extract (data steward)",
                "description": "A CSV with the columns the workspace's [referrals] names (body up to 64 MiB). Validated in full by loading the workspace with it: problems are a 422 naming the rows, and nothing is stored. Then stored in one transaction in the workspace store (needmap-store.gpkg) and swapped in without dropping requests. Idempotency-Key: a retry with the same key gets the first answer (200, replayed) and stores nothing; the same key with another body is a 409. Public: 401; planners and admins: 403.",
                "parameters": [{"name": "Idempotency-Key", "in": "header", "required": false, "schema": {"type": "string"}, "description": "1-200 visible ASCII characters"}],
                "requestBody": {"required": true, "content": {"text/csv": {"schema": {"type": "string"}}}},
                "responses": {
                    "201": {"description": "Stored and applied", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "200": {"description": "Replayed: stored before under this key", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "401": error_responses()["400"].clone(), "403": error_responses()["400"].clone(),
                    "409": error_responses()["400"].clone(), "413": error_responses()["400"].clone(),
                    "422": error_responses()["400"].clone()
                }
            }},
            "/api/uploads/premises/{layer}": layer_upload(
                "Upload a premises layer (planner, data steward, admin)",
                "GeoJSON points with the columns the layer's [[premises]] entry names, in place of the layer's file. Validated in full by loading the workspace with it (a bad opening-hours expression, a missing column or a duplicate id is a 422 naming the feature; nothing stored). Stored in one transaction; the edits made to its premises before are superseded (each premises gets a new version, so an older ETag gets 412). Idempotency-Key as for referral uploads. An unknown layer: 404 listing the layers.",
                path_param("layer", "the layer's file name without extension (premises.geojson: premises)"),
            ),
            "/api/uploads/boundaries/{name}": layer_upload(
                "Upload a boundary set (planner, data steward, admin)",
                "GeoJSON polygons with the set's id (and label) columns, in place of its file. Validated in full (invalid polygons, a missing id column, duplicate codes: 422 naming the feature; nothing stored), stored in one transaction and swapped in. Idempotency-Key as for referral uploads. An unknown set: 404 listing the sets.",
                path_param("name", "the boundary set's name in [[boundaries]]"),
            ),
            "/api/premises/{id}": {
                "get": {
                    "summary": "One premises, with its version",
                    "description": "The premises' record (as loaded, with the edits made through this API) and an ETag \"v<n>\" giving its version.",
                    "parameters": [path_param("id", "premises id")],
                    "responses": {"200": {"description": "The record", "content": {"application/json": {"schema": {"type": "object"}}}}, "404": error_responses()["404"].clone()}
                },
                "put": {
                    "summary": "Edit a premises (planner, data steward, admin)",
                    "description": "JSON with any of name, opening_hours, capacity, services, provider, eligibility, lon and lat; If-Match with the ETag read. 428 without If-Match; 412 when another edit came first (the current ETag is sent; nothing changed); 422 for an invalid edit. Stored in the workspace store and swapped in.",
                    "parameters": [path_param("id", "premises id"), {"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}}],
                    "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": "Edited; the new ETag"}, "412": error_responses()["400"].clone(), "422": error_responses()["400"].clone(), "428": error_responses()["400"].clone()}
                }
            },
            "/api/trends": op("Trends per area", "Referrals per area in each complete period (periods the extract covers only in part are listed in `partial` and left out), the trend test of each area's rate per 1,000 (Mann-Kendall, or a quasi-Poisson log-linear trend), Benjamini-Hochberg q-values across areas, `direction` rising / falling at q <= alpha (else none), and the significantly rising areas ranked fastest first (`rising`). Public: the workspace's fixed period only and all groups together (others 400; for signed-in planners); each count is the audited release's cell for that area and period (\"<10\", rounded to 5, or \"[c]\"), equal to what the public sees elsewhere; rate_per_1000_per_year from the counts as shown (null where one is withheld); growth rounded to 5 % (null where the area's published total is withheld); p and q to 3 decimals; sen_slope_per_year null. Planners: exact counts and statistics.", json!([query_param("period", false, "month | quarter | year (default: the workspace's [need] period, the only one the public may use)", "string"), query_param("group", false, "client group (planners only)", "string"), query_param("test", false, "mann-kendall (default) | poisson", "string"), query_param("alpha", false, "false discovery rate for rising/falling, between 0 and 1 (default 0.05)", "number")]), json_ok(json!({"$ref": "#/components/schemas/Trends"}))),
            "/api/hotspots": op("Hot spots", "Getis-Ord Gi* of the referral rate per 1,000 per year (or the count) over the complete periods, classed hot or cold at 90, 95 or 99 % by Benjamini-Hochberg q-value (p-value with fdr=false); local Moran's I clusters (HH, LL, HL, LH; null where not significant at alpha); with emerging=true, the emerging hot spot category of each area from Gi* per period and the Mann-Kendall trend of its z. Classes, quadrants, categories and q (3 decimals for the public) are published; z, gi (G*) and moran_i are for planners (null for the public). Same period and group rules as /api/trends.", json!([query_param("weights", false, "rook (default) | queen | distance:METRES (at most 10000, and at most 50 neighbours per area on average)", "string"), query_param("value", false, "rate (default) | count", "string"), query_param("emerging", false, "also the emerging hot spot categories (default false; rate only)", "boolean"), query_param("alpha", false, "significance of a Moran cluster and of an emerging hot spot bin (default 0.05)", "number"), query_param("fdr", false, "classify by Benjamini-Hochberg q-values (default true)", "boolean"), query_param("period", false, "month | quarter | year (public: the fixed period only)", "string"), query_param("group", false, "client group (planners only)", "string")]), json_ok(json!({"$ref": "#/components/schemas/Hotspots"}))),
            "/api/projection": op("Projected referrals", "Referrals per area and for the region in each of the next horizon periods from a Poisson log-linear trend per area (slopes shrunk towards the regional slope), damped or level if asked, with prediction intervals by seeded simulation. Public: each value as a count after disclosure control (\"<10\" or rounded to 5); planners: rounded to 2 decimals. Same period and group rules as /api/trends.", json!([query_param("horizon", false, "periods ahead, 1-24 (default 3)", "integer"), query_param("model", false, "trend (default) | damped:PHI (0 < PHI <= 1, e.g. damped:0.9) | level", "string"), query_param("level", false, "coverage of the interval, between 0 and 1 (default 0.95)", "number"), query_param("period", false, "month | quarter | year (public: the fixed period only)", "string"), query_param("group", false, "client group (planners only)", "string")]), json_ok(json!({"$ref": "#/components/schemas/Projection"}))),
            "/api/early-warning": op("Early-warning list", "The areas meeting at least min_reasons of the rules, most reasons and most projected demand first: rate (referrals per 1,000 per year over the most recent year of complete periods at least rate_min), growth (Poisson rate ratio per year at least 1 + growth_min, and rising after the FDR unless any_growth), hotspot (Gi* hot spot at hotspot_confidence % or more), emerging (new, consecutive or intensifying hot spot). For the public the rules are applied to the values as published (rate from the counts as shown, growth rounded to 5 %), which are given, with projected (the last projected period) as a count after disclosure control. Same period and group rules as /api/trends.", json!([query_param("rate_min", false, "referrals per 1,000 residents per year (default: rule off)", "number"), query_param("growth_min", false, "growth a year as a share, 0.1 = 10 % (default 0.1; negative turns the rule off)", "number"), query_param("any_growth", false, "count growth even where the trend is not significant (default false)", "boolean"), query_param("hotspot_confidence", false, "90, 95 (default), 99, or 0 for off", "integer"), query_param("no_emerging", false, "leave out the emerging hot spot rule (default false)", "boolean"), query_param("min_reasons", false, "rules an area must meet, 1-4 (default 1)", "integer"), query_param("test", false, "mann-kendall (default) | poisson", "string"), query_param("alpha", false, "false discovery rate of trends and hot spot bins (default 0.05)", "number"), query_param("weights", false, "rook (default) | queen | distance:METRES (as for /api/hotspots)", "string"), query_param("horizon", false, "periods ahead for projected, 1-24 (default 3)", "integer"), query_param("model", false, "trend (default) | damped:PHI | level", "string"), query_param("period", false, "month | quarter | year (public: the fixed period only)", "string"), query_param("group", false, "client group (planners only)", "string")]), json_ok(json!({"$ref": "#/components/schemas/EarlyWarning"}))),
            "/api/referrals": op("Referral points (planner, data steward)", "Needs `Authorization: Bearer <token>`. Public: 401; admin: 403. Planner: points masked deterministically per record (moved 100-400 m), no times or rows. Data steward: raw points with row, time, group and area; `purpose` required; every request is first written to the hash-chained audit log, and if that fails nothing is returned (503).", json!([query_param("bbox", true, "min_lon,min_lat,max_lon,max_lat (WGS84)", "string"), query_param("purpose", false, "why (required for the data steward; recorded)", "string")]), geojson_ok()),
            "/api/scenarios": op("Saved scenarios", "The workspace's saved scenarios (baseline premises plus edits): name, description, number of edits, when saved.", json!([]), json_ok(json!({"type": "object"}))),
            "/api/scenarios/compare": op("Compare two scenarios", "For one premises kind: coverage within the threshold, mean and 95th-percentile travel time, hours gap (protected), provider choice and choice deserts, overall and by SIMD quintile, for scenario a (default baseline) and b; per area travel time and coverage in each.", json!([query_param("a", false, "scenario name (default baseline)", "string"), query_param("b", true, "scenario name or baseline", "string"), query_param("kind", true, "premises kind", "string"), query_param("threshold_min", false, "minutes (1-180, default 15)", "number")]), json_ok(json!({"type": "object"}))),
            "/api/scenarios/{name}": scenario_item(),
            "/api/signpost": op("Who can help here, and when", "Premises offering a service (matched against their services and kind) within max_min minutes of a point, ranked by travel time, each open now or not, when it closes or next opens, whether it is open on arrival, the earliest visit, and its eligibility text. Premises are public; no referral data is used.", json!([query_param("lon", true, "WGS84 longitude", "number"), query_param("lat", true, "WGS84 latitude", "number"), query_param("service", false, "a service or premises kind", "string"), query_param("at", false, "local date-time, e.g. 2024-03-05T17:30 (default now, UK time) or RFC 3339 with an offset", "string"), query_param("limit", false, "results (1-50, default 10)", "integer"), query_param("max_min", false, "minutes of travel (1-180, default 60)", "number")]), json_ok(json!({"type": "object"}))),
            "/api/premises/{id}/hours": op("Opening hours of one premises", "The share of each of the 168 hours of a week (Monday 00:00 first) that the premises is open, from its OSM opening_hours with Scotland's bank holidays as PH; with at=, whether it is open then and when that next changes.", json!([path_param("id", "premises id"), query_param("week", false, "any ISO date in the week wanted", "string"), query_param("at", false, "a local date-time, e.g. 2024-08-06T10:00:00", "string")]), json_ok(json!({"type": "object"}))),
            "/tiles/{layer}/{z}/{x}/{y}": {"get": {
                "summary": "Vector tile",
                "description": "A Mapbox Vector Tile (v2.1, extent 4096) of a polygon layer: `areas` (public need attributes) or a boundary set. y may end in .mvt. 204 when the tile is empty. Sent gzipped when the client accepts gzip.",
                "parameters": [path_param("layer", "areas or a boundary set name"), path_param("z", "zoom 0-22"), path_param("x", "column"), path_param("y", "row, e.g. 79.mvt")],
                "responses": {
                    "200": {"description": "Tile", "content": {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string", "format": "binary"}}}},
                    "204": {"description": "Empty tile"},
                    "400": error_responses()["400"].clone(),
                    "404": error_responses()["404"].clone()
                }
            }},
            "/tiles/{name}": op("TileJSON", "TileJSON 3.0 for a tile layer; name is `<layer>.json`.", json!([path_param("name", "e.g. areas.json")]), json_ok(json!({"type": "object"})))
        },
        "components": {"schemas": {
            "Edit": {"oneOf": [
                {"type": "object", "required": ["op", "id", "name", "kind", "lon", "lat"], "properties": {"op": {"const": "add"}, "id": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"}, "capacity": {"type": "number"}, "opening_hours": {"type": "string"}, "services": {"type": "array", "items": {"type": "string"}}, "provider": {"type": "string"}}},
                {"type": "object", "required": ["op", "id"], "properties": {"op": {"const": "close"}, "id": {"type": "string"}}},
                {"type": "object", "required": ["op", "id", "lon", "lat"], "properties": {"op": {"const": "move"}, "id": {"type": "string"}, "lon": {"type": "number"}, "lat": {"type": "number"}}},
                {"type": "object", "required": ["op", "id", "opening_hours"], "properties": {"op": {"const": "hours"}, "id": {"type": "string"}, "opening_hours": {"type": "string"}}},
                {"type": "object", "required": ["op", "id", "capacity"], "properties": {"op": {"const": "capacity"}, "id": {"type": "string"}, "capacity": {"type": "number"}}}
            ]},
            "Scenario": {"type": "object", "properties": {"name": {"type": "string"}, "description": {"type": ["string", "null"]}, "edits": {"type": "array", "items": {"$ref": "#/components/schemas/Edit"}}, "updated": {"type": ["string", "null"]}}},
            "Error": {"type": "object", "required": ["error", "message"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
            "Count": count,
            "Trends": {"type": "object", "properties": {
                "period": {"type": "string", "enum": ["month", "quarter", "year"]},
                "periods": {"type": "array", "items": {"type": "string"}, "description": "complete periods: 2024-03, 2024-Q1 or 2024"},
                "partial": {"type": "array", "items": {"type": "string"}, "description": "periods covered only in part, left out"},
                "test": {"type": "string", "enum": ["mann-kendall", "poisson"]},
                "alpha": {"type": "number"}, "group": {"type": ["string", "null"]},
                "areas": {"type": "array", "items": {"type": "object", "properties": {
                    "area_id": {"type": "string"},
                    "counts": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}, "description": "one per complete period"},
                    "direction": {"type": "string", "enum": ["rising", "falling", "none"]},
                    "p": {"type": ["number", "null"]}, "q": {"type": ["number", "null"]},
                    "rank": {"type": ["integer", "null"], "description": "1 = the fastest significant rise"},
                    "growth_pct_per_year": {"type": ["number", "null"]},
                    "rate_per_1000_per_year": {"type": ["number", "null"]},
                    "sen_slope_per_year": {"type": ["number", "null"], "description": "planners only"}
                }}},
                "rising": {"type": "array", "items": {"type": "string"}, "description": "area ids, fastest first"}
            }},
            "Hotspots": {"type": "object", "properties": {
                "weights": {"type": "string", "description": "in words, e.g. rook contiguity"},
                "value": {"type": "string", "enum": ["rate", "count"]},
                "alpha": {"type": "number"}, "fdr": {"type": "boolean"}, "period": {"type": "string"},
                "group": {"type": ["string", "null"]}, "emerging": {"type": "boolean"},
                "periods": {"type": "array", "items": {"type": "string"}},
                "areas": {"type": "array", "items": {"type": "object", "properties": {
                    "area_id": {"type": "string"},
                    "class": {"type": "string", "enum": ["hot_99", "hot_95", "hot_90", "not_significant", "cold_90", "cold_95", "cold_99"], "description": "Gi* hot or cold spot at 99, 95 or 90 % confidence (not_significant where the area has no value)"},
                    "q": {"type": ["number", "null"], "description": "Gi* q-value (Benjamini-Hochberg)"},
                    "moran_quadrant": {"type": ["string", "null"], "enum": ["HH", "LL", "HL", "LH", null], "description": "local Moran cluster, null where not significant"},
                    "emerging": {"type": ["string", "null"], "enum": ["new_hot_spot", "consecutive_hot_spot", "intensifying_hot_spot", "persistent_hot_spot", "diminishing_hot_spot", "sporadic_hot_spot", "oscillating_hot_spot", "historical_hot_spot", "new_cold_spot", "consecutive_cold_spot", "intensifying_cold_spot", "persistent_cold_spot", "diminishing_cold_spot", "sporadic_cold_spot", "oscillating_cold_spot", "historical_cold_spot", "no_pattern", null], "description": "null unless emerging=true"},
                    "z": {"type": ["number", "null"], "description": "Gi* z (planners only)"},
                    "gi": {"type": ["number", "null"], "description": "G*_i (planners only)"},
                    "moran_i": {"type": ["number", "null"], "description": "local Moran's I (planners only)"}
                }}}
            }},
            "Projection": {"type": "object", "properties": {
                "period": {"type": "string"}, "group": {"type": ["string", "null"]},
                "horizon": {"type": "integer"}, "model": {"type": "string"}, "level": {"type": "number"},
                "fitted": {"type": "array", "items": {"type": "string"}, "description": "the complete periods fitted"},
                "periods": {"type": "array", "items": {"type": "string"}, "description": "the periods projected"},
                "areas": {"type": "array", "items": {"type": "object", "properties": {
                    "area_id": {"type": "string"},
                    "projected": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}},
                    "lower": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}},
                    "upper": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}}
                }}},
                "region": {"type": "object", "properties": {
                    "projected": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}},
                    "lower": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}},
                    "upper": {"type": "array", "items": {"$ref": "#/components/schemas/Count"}}
                }}
            }},
            "EarlyWarning": {"type": "object", "properties": {
                "period": {"type": "string"}, "group": {"type": ["string", "null"]},
                "periods": {"type": "array", "items": {"type": "string"}},
                "recent_periods": {"type": "array", "items": {"type": "string"}, "description": "the recent year the rate rule looks at"},
                "projected_period": {"type": ["string", "null"]},
                "rules": {"type": "object", "description": "the rules applied, by parameter name"},
                "areas": {"type": "array", "items": {"type": "object", "properties": {
                    "area_id": {"type": "string"},
                    "reasons": {"type": "array", "items": {"type": "string", "enum": ["rate", "growth", "hotspot", "emerging"]}},
                    "rate_per_1000": {"type": ["number", "null"], "description": "referrals per 1,000 per year in the recent year"},
                    "growth_pct_per_year": {"type": ["number", "null"]},
                    "projected": {"oneOf": [{"$ref": "#/components/schemas/Count"}, {"type": "null"}], "description": "referrals in projected_period"}
                }}}
            }},
            "FeatureCollection": {"type": "object", "required": ["type", "features"], "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}}},
            "AreaDetail": {"type": "object", "properties": {
                "area_id": {"type": "string"}, "name": {"type": ["string", "null"]}, "population": {"type": ["number", "null"]},
                "referrals": {"$ref": "#/components/schemas/Count"}, "rate_per_1000": {"type": ["number", "null"]},
                "need_score": {"type": ["number", "null"]}, "simd_rank": {"type": ["integer", "null"]},
                "simd_decile": {"type": ["integer", "null"]}, "simd_quintile": {"type": ["integer", "null"]},
                "parents": {"type": "object"}, "referrals_by_group": {"type": "object"}, "indicators": {"type": "object"}
            }}
        }}
    })
}
