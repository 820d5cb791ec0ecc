// Tickwire's browser SDK. Generic parts: the wasm core (`core`), the REST API (`rest`), the
// realtime session (`session`, playing or spectating), replay playback (`replay`), interpolation
// and prediction. Game-specific parts: `games/`.

export * from './core.js';
export * from './rest.js';
export * from './session.js';
export * from './replay.js';
export * from './interpolation.js';
export * from './prediction.js';
export * from './games/arena.js';
export * from './games/arena-motion.js';
export * from './games/cycles.js';
