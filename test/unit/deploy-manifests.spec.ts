import { readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { sampleConfig } from '../../sample/sample.config.js';

/** Every object of a manifest file. */
function objects(file: string): any[] {
  return parseAllDocuments(readFileSync(`deploy/${file}`, 'utf8')).map((document) => {
    expect(document.errors).toEqual([]);
    return document.toJS();
  });
}

/** The app's settings, as the sample reads them from this container's environment. */
function appSettingsOf(container: { env: { name: string; value: string }[] }) {
  const saved = { ...process.env };
  try {
    for (const { name, value } of container.env) process.env[name] = value;
    return {
      grpcPort: sampleConfig.grpcPort(),
      httpPort: sampleConfig.httpPort(),
      gracePeriodMs: sampleConfig.gracePeriodMs(),
      protoFile: sampleConfig.protoFile(),
    };
  } finally {
    process.env = saved;
  }
}

const kinds: Record<string, { new (data: any): { validate(): void } }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
};

describe('deploy/: the Kubernetes and KServe manifests', () => {
  const kubernetes = ['kubernetes/deployment.yaml', 'kubernetes/services.yaml', 'kubernetes/autoscaling.yaml'].flatMap(
    objects,
  );
  const deployment = kubernetes.find((o) => o.kind === 'Deployment');
  const container = deployment.spec.template.spec.containers[0];
  const app = appSettingsOf(container);

  it("every Kubernetes object is valid against Kubernetes' own schema", () => {
    expect(kubernetes.map((o) => `${o.apiVersion} ${o.kind}`).sort()).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
      'v1 Service',
      'v1 Service',
    ]);
    for (const object of kubernetes) {
      const Kind = kinds[`${object.apiVersion} ${object.kind}`];
      expect(() => new Kind(object).validate()).not.toThrow();
    }
  });

  it('the schema check catches a mistake (a port as text)', () => {
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = 'grpc';
    expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
  });

  it("ports and probes agree with the app's options", () => {
    const port = (name: string) => container.ports.find((p: { name: string }) => p.name === name).containerPort;
    expect(port('grpc')).toBe(app.grpcPort);
    expect(port('http')).toBe(app.httpPort);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      // Native gRPC probes on grpc.health.v1, service '' (the whole server).
      expect(container[probe].grpc).toEqual({ port: app.grpcPort });
    }
    expect(app.protoFile).toBe(false); // read-only root file system
    for (const service of kubernetes.filter((o) => o.kind === 'Service')) {
      expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
      expect(service.spec.ports.find((p: { name: string }) => p.name === 'grpc')).toMatchObject({
        port: app.grpcPort,
        targetPort: 'grpc',
      });
    }
    expect(kubernetes.find((o) => o.metadata.name === 'blazerpc-sample-headless').spec.clusterIP).toBe('None');
  });

  it('grace periods nest: Kubernetes waits for the preStop delay and the drain, and liveness outlasts a drain', () => {
    const preStopMs = Number(container.lifecycle.preStop.exec.command[1]) * 1000;
    const terminationMs = deployment.spec.template.spec.terminationGracePeriodSeconds * 1000;
    expect(terminationMs).toBeGreaterThanOrEqual(preStopMs + app.gracePeriodMs + 1000);
    const liveness = container.livenessProbe;
    expect(liveness.periodSeconds * liveness.failureThreshold * 1000).toBeGreaterThan(app.gracePeriodMs);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('the autoscaler and the disruption budget target the Deployment and keep replicas serving', () => {
    const hpa = kubernetes.find((o) => o.kind === 'HorizontalPodAutoscaler');
    const pdb = kubernetes.find((o) => o.kind === 'PodDisruptionBudget');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
    expect(container.resources.requests.cpu).toBeDefined(); // utilization targets need a request
  });

  it('KServe: a v2 gRPC runtime whose h2c port is the one the app serves on, used by the InferenceService', () => {
    const [runtime] = objects('kserve/serving-runtime.yaml');
    const [service] = objects('kserve/inference-service.yaml');
    expect(`${runtime.apiVersion} ${runtime.kind}`).toBe('serving.kserve.io/v1alpha1 ServingRuntime');
    expect(`${service.apiVersion} ${service.kind}`).toBe('serving.kserve.io/v1beta1 InferenceService');
    expect(runtime.spec.protocolVersions).toContain('grpc-v2');
    const kserveContainer = runtime.spec.containers[0];
    expect(kserveContainer.name).toBe('kserve-container');
    const h2c = kserveContainer.ports.find((p: { name: string }) => p.name === 'h2c');
    expect(h2c.containerPort).toBe(appSettingsOf(kserveContainer).grpcPort);
    expect(kserveContainer.env.find((e: { name: string }) => e.name === 'IRIS_MODEL_PATH').value).toMatch(
      /^\/mnt\/models\//,
    );
    expect(service.spec.predictor.model).toMatchObject({
      runtime: runtime.metadata.name,
      protocolVersion: 'grpc-v2',
      modelFormat: { name: 'onnx' },
    });
    expect(runtime.spec.supportedModelFormats.map((f: { name: string }) => f.name)).toContain('onnx');
    // The container spec itself is a Kubernetes container: check it with the Deployment schema.
    expect(() =>
      new Deployment({
        metadata: { name: 'x' },
        spec: { selector: {}, template: { spec: { containers: [kserveContainer] } } },
      }).validate(),
    ).not.toThrow();
  });
});
