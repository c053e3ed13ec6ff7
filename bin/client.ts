/**
 * The CLI's view of the client library (client/): the route-by-route API client, signed by
 * itself (a local stack with its default principal, a deployed one with the default AWS
 * credential chain when given createSigV4Signer). How `fanout` prints squares is
 * results-output.ts.
 */
import { FanoutApi, type RequestSigner } from '#client/index.ts';

export type { JobStatusBody } from '#client/index.ts';
export {
  createSigV4Signer,
  HttpError as ApiError,
  regionOfApiUrl,
} from '#client/index.ts';
export { signingRegionOf } from '#client/signing.ts';

/** A FanoutApi on `baseUrl`, signed by `signer`, or by itself when none is given. */
export class FanoutClient extends FanoutApi {
  constructor(baseUrl: string, signer?: RequestSigner | 'none') {
    super(baseUrl, signer === undefined ? {} : { signer });
  }
}
