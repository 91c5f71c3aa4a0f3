// The topology graph in Cytoscape.js: positions from the server's elkjs layout (preset layout), state
// classes from the live view; emits taps on computes, workloads, control nodes and edges.
import cytoscape from 'cytoscape';
import { cytoscapeStyle, type CyElement } from '../../graph/cytoscape-elements.ts';

export interface GraphTaps {
  node(kind: string, name: string): void;
  edge(kind: string, data: Record<string, unknown>): void;
}

export class GraphView {
  private readonly cy: cytoscape.Core;
  private fitted = false;
  /** Shown by default up to this many workloads. */
  static readonly ATTACH_EDGES_UP_TO = 8;
  attach = true;

  constructor(container: HTMLElement, taps: GraphTaps) {
    this.cy = cytoscape({
      container,
      style: cytoscapeStyle() as unknown as cytoscape.StylesheetJson,
      layout: { name: 'preset' },
      minZoom: 0.2,
      maxZoom: 3,
    });
    this.cy.on('tap', 'node', (e) => taps.node(String(e.target.data('kind')), String(e.target.data('name'))));
    this.cy.on('tap', 'edge', (e) => taps.edge(String(e.target.data('kind')), e.target.data() as Record<string, unknown>));
    window.addEventListener('resize', () => this.cy.resize());
  }

  /** Adds what is new, removes what is gone, updates data and classes of the rest. */
  update(elements: readonly CyElement[]): void {
    const ids = new Set(elements.map((e) => String(e.data.id)));
    this.cy.batch(() => {
      this.cy.edges().forEach((el) => {
        if (!ids.has(el.id())) el.remove();
      });
      this.cy.nodes().forEach((el) => {
        if (!ids.has(el.id()) && el.inside()) el.remove();
      });
      for (const e of elements) {
        const el = this.cy.getElementById(String(e.data.id));
        if (el.empty()) {
          this.cy.add(e as unknown as cytoscape.ElementDefinition);
        } else {
          el.data(e.data);
          el.classes(e.classes ?? '');
        }
      }
    });
    this.showAttachEdges(this.attach);
    if (!this.fitted && elements.length > 0) {
      this.cy.fit(undefined, 24);
      this.fitted = true;
    }
  }

  /** Workload → network edges: useful on small topologies, clutter on large ones. */
  showAttachEdges(show: boolean): void {
    this.cy.edges('.attach').style('display', show ? 'element' : 'none');
  }

  fit(): void {
    this.cy.fit(undefined, 24);
  }

  nodeIds(): string[] {
    return this.cy.nodes().map((n) => n.id());
  }

  edgeClasses(id: string): string[] {
    const el = this.cy.getElementById(id);
    return el.empty() ? [] : el.classes();
  }

  memberEdgeIds(): string[] {
    return this.cy.edges('.member').map((e) => e.id());
  }

  select(id: string): void {
    this.cy.elements().unselect();
    this.cy.getElementById(id).select();
  }
}
