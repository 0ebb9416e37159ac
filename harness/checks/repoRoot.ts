/** The repository root (the package root): specs, vectors and golden files are read from the source tree. */
export { PACKAGE_ROOT as REPO_ROOT } from '../paths';
