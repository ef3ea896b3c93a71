import packageJson from '../../../package.json'

/** The version of Amalgam that wrote an output: package.json's, bundled in at build time. */
export const ENGINE_VERSION: string = packageJson.version
