// Runs once, on the first start of an empty MongoDB (docker-entrypoint-initdb.d), as the root
// user. Each Attune service gets its own user with readWrite on its own database only: a
// compromised insights can read neither checkin's entries nor the gateway's accounts.
// Passwords come from the environment (<SERVICE>_MONGO_PASSWORD), never from this file.
const namespace = process.env.ATTUNE_NAMESPACE || "attune";
for (const service of ["checkin", "scheduler", "insights", "gateway"]) {
  const password = process.env[`${service.toUpperCase()}_MONGO_PASSWORD`];
  if (!password) {
    throw new Error(`${service.toUpperCase()}_MONGO_PASSWORD is not set`);
  }
  const database = `${namespace}_${service}`;
  db.getSiblingDB(database).createUser({
    user: service,
    pwd: password,
    roles: [{ role: "readWrite", db: database }],
  });
}
