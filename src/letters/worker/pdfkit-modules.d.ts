// pdfkit's metrics of the standard PDF fonts (package export `pdfkit/standard-fonts/<Name>`).
declare module 'pdfkit/standard-fonts/Helvetica' {
  const metrics: { name: 'Helvetica' };
  export default metrics;
}
