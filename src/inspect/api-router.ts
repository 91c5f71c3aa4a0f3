// Kept only for control/bgp-routing.ts until it imports src/api/api-router.ts itself; nothing else may use it.
export { ApiError, type ApiRouter } from '../api/api-router.ts';
