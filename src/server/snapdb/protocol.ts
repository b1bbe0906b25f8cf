/**
 * Constants of the openHistorian / SNAPdb socket protocol (docs/protocols/snapdb.md): the
 * handshake magic, command and response bytes, and the GUIDs of the historian key/value types,
 * their pair encodings and the read filters. Wire facts only; no behaviour.
 */

/** Default TCP port of a SNAPdb server. */
export const SNAPDB_DEFAULT_PORT = 38402;

/** The int64 the client sends first (little-endian on the wire). */
export const HANDSHAKE_MAGIC = 0x2ba517361121n;

/** Authentication mode byte: the only one the Python client (and this server) supports. */
export const AUTH_NONE = 1;

/** Version byte of a database-info record (the client rejects others). */
export const DATABASE_INFO_VERSION = 1;

/** Client → server command bytes. Root level: 0, 2, 7. Database level: 1, 3, 4, 5, 6. */
export const Cmd = {
  connectToDatabase: 0,
  disconnectDatabase: 1,
  disconnect: 2,
  read: 3,
  cancelRead: 4,
  write: 5,
  setEncodingMethod: 6,
  getAllDatabases: 7,
} as const;

/** Server → client response bytes. */
export const Resp = {
  unhandledException: 0,
  unknownProtocol: 1,
  connectedToRoot: 2,
  listOfDatabases: 3,
  databaseDoesNotExist: 4,
  databaseKeyUnknown: 5,
  databaseValueUnknown: 6,
  successfullyConnectedToDatabase: 7,
  goodBye: 8,
  unknownCommand: 9,
  unknownEncodingMethod: 10,
  encodingMethodAccepted: 11,
  databaseDisconnected: 12,
  unknownDatabaseCommand: 13,
  unknownOrCorruptSeekFilter: 14,
  unknownOrCorruptMatchFilter: 15,
  unknownOrCorruptReaderOptions: 16,
  serializingPoints: 17,
  errorWhileReading: 18,
  canceledRead: 19,
  readComplete: 20,
  knownProtocol: 24,
} as const;

/** Type and method GUIDs, lower-case canonical text. */
export const Guid = {
  historianKey: '6527d41b-9d04-4bfa-8133-05273d521d46',
  historianValue: '24dde7dc-67f9-42b6-a11b-e27c3e62d9ef',
  historianStreamEncoding: '0418b3a7-f631-47af-bbfa-8b9bc0378328',
  fixedSizeEncoding: '1dea326d-a63a-4f73-b51c-7b3125c6da55',
  timestampSeekFilter: '0f0f9478-dc42-4eef-9f26-231a942ef1fa',
  pointIdMatchFilter: '2034a3e3-f92e-4749-9306-b04dc36fd743',
} as const;

/** Encoding-definition kind byte: 1 = one combined key/value method, 2 = separate key and value methods. */
export const ENCODING_COMBINED = 1;
export const ENCODING_SEPARATE = 2;

/** End-of-stream symbols of the two pair encodings. */
export const HISTORIAN_EOS = 0xff;
export const FIXED_EOS = 0;
export const FIXED_PAIR = 1;

/** Reader-options version byte. */
export const READER_OPTIONS_VERSION = 0;
