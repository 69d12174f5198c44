// A SCIM 2.0 server made the way SCIMMY's documentation shows: SCIMMY does the protocol (schemas, filters,
// PATCH, paging, errors), scimmy-routers the HTTP endpoints; this file only keeps resources in memory.
// Usage: node server.mjs PORT TOKEN   (prints "ready" once it listens on 127.0.0.1)
import {randomUUID} from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const [port, token] = process.argv.slice(2);

function memoryStore(resourceType, uniqueAttribute) {
    const items = new Map();
    const clash = (data, id) => uniqueAttribute && [...items.values()].some((item) => item.id !== id
        && String(item[uniqueAttribute]).toLowerCase() === String(data[uniqueAttribute]).toLowerCase());
    resourceType
        .ingress((resource, data) => {
            const id = resource.id ?? randomUUID();
            if (resource.id && !items.has(id)) throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
            if (clash(data, id)) throw new SCIMMY.Types.Error(409, "uniqueness", `${uniqueAttribute} is already taken`);
            const now = new Date().toISOString();
            const stored = {...JSON.parse(JSON.stringify(data)), id,
                meta: {created: items.get(id)?.meta?.created ?? now, lastModified: now}};
            items.set(id, stored);
            return stored;
        })
        .egress((resource) => {
            if (resource.id) {
                if (!items.has(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return items.get(resource.id);
            }
            const all = [...items.values()];
            return resource.filter ? resource.filter.match(all) : all;
        })
        .degress((resource) => {
            if (!items.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        });
}

SCIMMY.Resources.declare(SCIMMY.Resources.User);
SCIMMY.Resources.declare(SCIMMY.Resources.Group);
SCIMMY.Resources.User.extend(SCIMMY.Schemas.EnterpriseUser);
memoryStore(SCIMMY.Resources.User, "userName");
memoryStore(SCIMMY.Resources.Group);

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failed");
        return "scim-client";
    },
}));
app.listen(Number(port), "127.0.0.1", () => console.log("ready"));
