declare module "*.svg?inline" {
  const dataUrl: string;
  export default dataUrl;
}
